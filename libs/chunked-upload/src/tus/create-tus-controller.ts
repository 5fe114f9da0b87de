import { Controller, type Type } from '@nestjs/common';
import { TusController } from './tus.controller';

/** A fresh tus controller class mounted at `path`, so each registration has its own route metadata. */
export function createTusController(path: string): Type<TusController> {
  @Controller(path)
  class FragoTusController extends TusController {}
  return FragoTusController;
}
