import { Controller, type Type } from '@nestjs/common';
import { ChunkedUploadController } from './chunked-upload.controller';

/** A fresh controller class mounted at `path`, so each registration has its own route metadata. */
export function createUploadController(path: string): Type<ChunkedUploadController> {
  @Controller(path)
  class FragoUploadController extends ChunkedUploadController {}
  return FragoUploadController;
}
