/**
 * The one thing the uploader needs from a file: its size, a name, and byte
 * ranges read on demand. Browser `Blob`/`File` objects are adapted here; the
 * Node entry (`nestjs-frago-client/node`) provides a file-system source.
 */

/** Random-access, read-only view of the bytes to upload. */
export interface FileSource {
  /** Total size in bytes. */
  readonly size: number;
  /** File name sent to the server on start. */
  readonly name: string;
  /** Reads bytes `[start, end)` (end exclusive, like `Blob.slice`). */
  slice(start: number, end: number): Promise<Uint8Array>;
  /** Releases any resource held (e.g. an open file handle). Optional. */
  close?(): Promise<void>;
}

/** What `upload()` accepts: a browser `Blob`/`File` (or Node's global `Blob`) or any `FileSource`. */
export type UploadInput = Blob | FileSource;

/** True when `input` is a `Blob` (duck-typed so it works across realms and in Node). */
function isBlob(input: UploadInput): input is Blob {
  return typeof (input as Blob).arrayBuffer === 'function' && typeof (input as Blob).stream === 'function';
}

/** Adapts a `Blob` or `File` to a `FileSource`; `name` defaults to the file's own name, else `"blob"`. */
export function blobSource(blob: Blob, name?: string): FileSource {
  const ownName = (blob as Partial<File>).name;
  return {
    size: blob.size,
    name: name ?? (ownName !== undefined && ownName !== '' ? ownName : 'blob'),
    async slice(start: number, end: number): Promise<Uint8Array> {
      return new Uint8Array(await blob.slice(start, end).arrayBuffer());
    },
  };
}

/** Turns any accepted input into a `FileSource`, applying an optional name override. */
export function toFileSource(input: UploadInput, name?: string): FileSource {
  if (isBlob(input)) return blobSource(input, name);
  if (name === undefined) return input;
  return {
    size: input.size,
    name,
    slice: (start, end) => input.slice(start, end),
    close: input.close?.bind(input),
  };
}
