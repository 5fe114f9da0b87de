import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { UploadStatus } from '../../entities/upload-status';
import { IntegerField } from './size-field';

/** Query of `GET /upload/`: `?limit` (1–1000, default 50), `&offset`, `&status`. */
export class ListUploadsQuery {
  @IsOptional()
  @IntegerField()
  @IsInt({ message: 'limit must be an integer from 1 to 1000' })
  @Min(1, { message: 'limit must be an integer from 1 to 1000' })
  @Max(1000, { message: 'limit must be an integer from 1 to 1000' })
  limit?: number;

  @IsOptional()
  @IntegerField()
  @IsInt({ message: 'offset must be an integer ≥ 0' })
  @Min(0, { message: 'offset must be an integer ≥ 0' })
  offset?: number;

  @IsOptional()
  @IsIn(Object.values(UploadStatus), { message: `status must be one of ${Object.values(UploadStatus).join(', ')}` })
  status?: UploadStatus;
}
