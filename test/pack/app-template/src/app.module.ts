// The README's quick start on SQLite (DATA_DIR holds the database, chunks and uploads).
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChunkedUploadModule, fragoMigrations } from 'nestjs-frago';

const dataDir = process.env.DATA_DIR ?? join(process.cwd(), 'data');

@Module({
  imports: [
    EventEmitterModule.forRoot(),
    TypeOrmModule.forRoot({
      type: 'better-sqlite3',
      database: join(dataDir, 'app.sqlite'),
      autoLoadEntities: true,
      migrations: fragoMigrations,
      migrationsRun: true,
    }),
    ChunkedUploadModule.forRoot({
      chunkUploadPath: join(dataDir, 'chunks'),
      assembledPath: join(dataDir, 'uploads'),
    }),
  ],
})
export class AppModule {}
