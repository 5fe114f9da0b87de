import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ChunkedUploadModuleExtras, ChunkedUploadOptions } from './options/chunked-upload-options.interface';
import { FRAGO_RAW_OPTIONS } from './chunked-upload.constants';
import { FRAGO_MODULE_EXTRAS } from './options/module-extras';
import { assembleChunkedUploadModule } from './chunked-upload.module-assembly';

/** Builder output: the base class with forRoot/forRootAsync and the types of their arguments. */
export const { ConfigurableModuleClass: ConfigurableChunkedUploadModule, OPTIONS_TYPE: CHUNKED_UPLOAD_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<ChunkedUploadOptions>({ moduleName: 'ChunkedUpload', optionsInjectionToken: FRAGO_RAW_OPTIONS })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createChunkedUploadOptions')
    // The extras' keys stay out of forRoot()'s module options (extras found there came from a
    // forRootAsync() factory, too late to take effect, and the options check refuses them); the
    // builder hands them, over their defaults, to the assembly of the module's providers and routes.
    .setExtras<ChunkedUploadModuleExtras>(FRAGO_MODULE_EXTRAS, assembleChunkedUploadModule)
    .build();
