import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InvalidFragoOptionError } from '../options/resolve-options';
import { FragoTusUpload } from './tus-upload.entity';
import { FRAGO_TUS_REPOSITORY, TusLedger } from './tus-ledger';
import { TusService } from './tus.service';
import { TusConcatService } from './tus-concat.service';
import { TusWriter } from './tus-writer';

/** The tus endpoint's providers, registered only when `tusPath` is set. */
export function tusProviders(): Provider[] {
  return [
    {
      provide: FRAGO_TUS_REPOSITORY,
      useFactory: (dataSource: DataSource) => {
        if (!dataSource.hasMetadata(FragoTusUpload)) {
          throw new InvalidFragoOptionError(
            'tusPath',
            'FragoTusUpload',
            'the entity is not registered in the TypeORM DataSource: set autoLoadEntities: true in TypeOrmModule.forRoot(), or list FragoTusUpload in its entities',
          );
        }
        return dataSource.getRepository(FragoTusUpload);
      },
      inject: [DataSource],
    },
    TusLedger,
    TusWriter,
    TusService,
    TusConcatService,
  ];
}
