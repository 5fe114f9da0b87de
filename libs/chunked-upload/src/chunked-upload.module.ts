import { type DynamicModule, Module } from '@nestjs/common';
import { CHUNKED_UPLOAD_OPTIONS_TYPE, ConfigurableChunkedUploadModule } from './chunked-upload.module-definition';

/**
 * Resumable, parallel, chunked uploads (frago's protocol) for a Nest app on
 * Fastify and TypeORM. Needs `EventEmitterModule.forRoot()` and a
 * `TypeOrmModule.forRoot()` in the host (see README).
 * @publicApi
 */
@Module({})
export class ChunkedUploadModule extends ConfigurableChunkedUploadModule {
  /** `forRoot()` without options: the defaults (anonymous uploads, folders under the working directory). */
  static override forRoot(options: typeof CHUNKED_UPLOAD_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
