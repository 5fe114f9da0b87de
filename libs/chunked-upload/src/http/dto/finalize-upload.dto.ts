import { IsOptional, IsString, MaxLength } from 'class-validator';
import { CHECKSUM_ALGO_MAX_LENGTH } from '../../migrations/widen-frago-checksum-algo';

/** Body of Finalize: `{checksum, checksum_algo}`; both optional here, the service decides. */
export class FinalizeUploadDto {
  @IsOptional()
  @IsString({ message: 'checksum must be a string' })
  @MaxLength(512, { message: 'checksum is too long' })
  checksum?: string;

  @IsOptional()
  @IsString({ message: 'checksum_algo must be a string' })
  @MaxLength(CHECKSUM_ALGO_MAX_LENGTH, { message: `checksum_algo is too long (at most ${CHECKSUM_ALGO_MAX_LENGTH} characters)` })
  checksum_algo?: string;
}
