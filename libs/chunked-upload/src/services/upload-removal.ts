import { Injectable, Logger } from '@nestjs/common';

/** What a part of the module keeps per upload beyond the ledger (the tus table), told when an upload goes. */
export interface UploadRemovalListener {
  /** The upload was deleted (frago `DELETE`, tus termination) or expired: drop what is kept for it. */
  uploadRemoved(uploadId: string): Promise<void>;
  /** Expiry sweeper, after each run: drop what is kept for uploads that are gone (a crash between the two deletes). */
  sweepRemoved?(): Promise<void>;
}

/**
 * Lets the tus endpoint (which shares frago's upload table) remove its rows whenever an
 * upload is deleted or expires, whichever protocol or instance does it, so a
 * frago `DELETE` removes what a tus `DELETE` does and the reverse (internal).
 */
@Injectable()
export class UploadRemoval {
  private readonly logger = new Logger('nestjs-frago');
  private readonly listeners: UploadRemovalListener[] = [];

  listen(listener: UploadRemovalListener): void {
    this.listeners.push(listener);
  }

  /** Called once the upload's row is deleted or marked expired; a failure is logged (the sweep retries it). */
  async removed(uploadId: string): Promise<void> {
    for (const listener of this.listeners) {
      await listener.uploadRemoved(uploadId).catch((error: unknown) => {
        this.logger.warn(`Could not remove what is kept for upload ${uploadId}: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
  }

  async sweep(): Promise<void> {
    for (const listener of this.listeners) await listener.sweepRemoved?.();
  }
}
