import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Body of Finalize: `{checksum, checksum_algo}`; both optional here, the service decides. */
export class FinalizeUploadDto {
  @IsOptional()
  @IsString({ message: 'checksum must be a string' })
  @MaxLength(512, { message: 'checksum is too long' })
  checksum?: string;

  @IsOptional()
  @IsString({ message: 'checksum_algo must be a string' })
  @MaxLength(64, { message: 'checksum_algo is too long' })
  checksum_algo?: string;
}
