import { StorageFullError } from '../errors/frago.errors';

/** An error of the file system (not of the source stream). */
export function isFileSystemError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && ['ENOSPC', 'EDQUOT', 'EIO', 'EBADF', 'EROFS', 'ENOENT', 'EACCES', 'EPERM', 'EFBIG'].includes(code);
}

/** Maps a full disk to the domain error the filter answers with 507. */
export function rethrowStorage(error: unknown): never {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') throw new StorageFullError();
  throw error;
}
