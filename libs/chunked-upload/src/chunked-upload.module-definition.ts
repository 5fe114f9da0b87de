import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ChunkedUploadModuleExtras, ChunkedUploadOptions } from './options/chunked-upload-options.interface';

/** Builder output: the base class with forRoot/forRootAsync, the raw-options token and types. */
export const {
  ConfigurableModuleClass: ConfigurableChunkedUploadModule,
  MODULE_OPTIONS_TOKEN: FRAGO_RAW_OPTIONS,
  OPTIONS_TYPE: CHUNKED_UPLOAD_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CHUNKED_UPLOAD_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ChunkedUploadOptions>({ moduleName: 'ChunkedUpload' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createChunkedUploadOptions')
  .setExtras<ChunkedUploadModuleExtras>({}, (definition) => definition)
  .build();
