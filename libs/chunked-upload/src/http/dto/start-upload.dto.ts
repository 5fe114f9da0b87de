import { IsDefined, IsInt, IsPositive, IsString } from 'class-validator';
import { IntegerField } from './size-field';

/** Body of Start: `{filename, total_size}` as JSON, urlencoded or multipart. */
export class StartUploadDto {
  @IsDefined({ message: 'filename is required' })
  @IsString({ message: 'filename must be a string' })
  filename!: string;

  @IntegerField()
  @IsDefined({ message: 'total_size is required' })
  @IsInt({ message: 'total_size must be a positive integer' })
  @IsPositive({ message: 'total_size must be a positive integer' })
  total_size!: number;
}
