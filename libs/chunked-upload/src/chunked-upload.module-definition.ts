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
  // Every extra is listed (undefined) so that forRoot() keeps them out of the
  // module options: extras found there came from a forRootAsync() factory,
  // where they are too late to take effect, and the options check refuses them.
  .setExtras<ChunkedUploadModuleExtras>(
    { uploadEntity: undefined, chunkEntity: undefined, routePrefix: undefined, tusPath: undefined, isGlobal: undefined },
    (definition) => definition,
  )
  .build();
