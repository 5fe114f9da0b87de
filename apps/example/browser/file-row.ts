/**
 * One file of the demo page: its row in the list and its upload, through
 * nestjs-frago-client (frago protocol) or tus-js-client (tus 1.0).
 */
import { formatBytes, upload, UploadAbortedError, UploadError, type ChecksumAlgorithm, type UploadProgress, type UploadResult } from 'nestjs-frago-client';
import { announce, el, errorMessage, formatRate } from './dom';
import { enqueue } from './queue';
import { API_URL, currentToken, type UploadSettings } from './settings';
import type { Upload as TusUpload } from 'tus-js-client';
import { createTusUpload, runTusUpload, tusUploadId } from './tus-upload';

type RowState = 'queued' | 'uploading' | 'verifying' | 'complete' | 'failed' | 'cancelled';

const ALGORITHM_LABEL: Record<ChecksumAlgorithm, string> = { md5: 'MD5', sha256: 'SHA-256' };

/** One file: its row in the list and its upload. */
export class FileRow {
  readonly element = el('li', 'file');
  private readonly progress = el('progress');
  private readonly percent = el('span', 'percent', '0%');
  private readonly speed = el('span', 'speed', '–');
  private readonly state = el('span', 'state');
  private readonly detail = el('p', 'detail');
  private readonly actions = el('span', 'actions');
  private readonly cancelButton = el('button', 'button button-small', 'Cancel');
  private controller = new AbortController();
  /** The server's id once the upload started, to resume after a failure. */
  private uploadId: string | undefined;
  /** The tus-js-client upload, kept so that Resume continues it (it asks the server for the offset). */
  private tus: TusUpload | undefined;

  constructor(
    readonly file: File,
    private readonly settings: UploadSettings,
  ) {
    this.element.dataset.name = file.name;
    const head = el('div', 'file-head');
    const name = el('span', 'file-name', file.name);
    name.title = file.name;
    const size = el('span', 'file-size', formatBytes(file.size));
    size.title = `${file.size.toLocaleString()} bytes`;
    this.cancelButton.type = 'button';
    this.cancelButton.setAttribute('aria-label', `Cancel upload of ${file.name}`);
    this.cancelButton.addEventListener('click', () => this.cancel());
    this.actions.append(this.cancelButton);
    head.append(name, size, this.actions);
    this.progress.max = Math.max(file.size, 1);
    this.progress.value = 0;
    this.progress.setAttribute('aria-label', `Upload progress of ${file.name}`);
    const meta = el('div', 'file-meta');
    meta.append(this.percent, this.speed, this.state);
    this.element.append(head, this.progress, meta, this.detail);
    this.setState('queued', 'Queued');
  }

  private setState(state: RowState, label: string): void {
    this.element.dataset.state = state;
    this.state.textContent = label;
    this.state.className = `state state-${state}`;
  }

  private setDetail(...nodes: (Node | string)[]): void {
    this.detail.replaceChildren(...nodes);
  }

  cancel(): void {
    this.controller.abort();
    if (this.element.dataset.state === 'queued') this.finishCancelled(false);
  }

  get cancelled(): boolean {
    return this.controller.signal.aborted;
  }

  private onProgress(progress: UploadProgress): void {
    if (progress.uploadId !== undefined) this.uploadId = progress.uploadId;
    const total = Math.max(progress.totalBytes, 1);
    this.progress.value = progress.acknowledgedBytes;
    this.percent.textContent = `${Math.floor((progress.acknowledgedBytes / total) * 100)}%`;
    this.speed.textContent = formatRate(progress.bytesPerSecond);
    if (progress.phase === 'finalizing') this.setState('verifying', 'Verifying checksum…');
    else if (progress.phase === 'starting' || progress.phase === 'uploading') this.setState('uploading', 'Uploading');
  }

  /** Runs the upload (or resumes it after a failure) and shows how it ended. */
  async run(): Promise<void> {
    if (this.cancelled) return;
    this.setState('uploading', this.uploadId === undefined ? 'Starting' : 'Resuming');
    this.setDetail();
    this.actions.replaceChildren(this.cancelButton);
    announce(`${this.file.name}: uploading`);
    if (this.settings.protocol === 'tus') return this.runTus();
    try {
      const result = await upload(this.file, {
        url: API_URL,
        token: this.settings.token,
        chunkSize: this.settings.chunkSize,
        parallel: this.settings.parallel,
        checksum: this.settings.checksum,
        uploadId: this.uploadId,
        signal: this.controller.signal,
        deleteOnCancel: true,
        onStart: (id) => {
          this.uploadId = id;
          this.element.dataset.uploadId = id;
        },
        onProgress: (progress) => this.onProgress(progress),
        onRetry: (error, attempt) => this.setDetail(`Retrying (attempt ${attempt}) after: ${error.message}`),
      });
      this.finishComplete(result);
    } catch (error) {
      if (error instanceof UploadAbortedError) this.finishCancelled(true);
      else this.finishFailed(error);
    }
  }

  /** The tus way (tus-upload.ts); Cancel terminates the upload on the server (DELETE). */
  private async runTus(): Promise<void> {
    const started = performance.now();
    try {
      this.tus ??= createTusUpload(this.file, this.settings);
      await runTusUpload(this.tus, this.settings.token, this.controller.signal, {
        onUrl: (url) => this.rememberTusUrl(url),
        onProgress: (sent, total) => this.tusProgress(sent, total, started),
        abortError: () => new UploadAbortedError(this.uploadId),
      });
      this.rememberTusUrl(this.tus.url);
      this.finishTusComplete(performance.now() - started);
    } catch (error) {
      if (error instanceof UploadAbortedError) {
        // tus §Termination: abort(true) sends DELETE, which removes the upload as frago's DELETE does.
        const deleted = await this.tus?.abort(true).then(
          () => true,
          () => false,
        );
        this.finishCancelled(deleted === true);
      } else {
        this.finishFailed(error);
      }
    }
  }

  private rememberTusUrl(url: string | null): void {
    const id = tusUploadId(url);
    if (id === undefined) return;
    this.uploadId = id;
    this.element.dataset.uploadId = id;
  }

  private tusProgress(sent: number, total: number, started: number): void {
    const seconds = (performance.now() - started) / 1000;
    this.progress.value = sent;
    this.percent.textContent = `${Math.floor((sent / Math.max(total, 1)) * 100)}%`;
    this.speed.textContent = seconds > 0 ? formatRate(sent / seconds) : '–';
    this.setState('uploading', 'Uploading (tus)');
  }

  private finishTusComplete(durationMs: number): void {
    this.progress.value = this.progress.max;
    this.percent.textContent = '100%';
    this.speed.textContent = durationMs > 0 ? `${formatRate(this.file.size / (durationMs / 1000))} avg` : '–';
    this.setState('complete', 'Complete');
    this.element.dataset.protocol = 'tus';
    const parallel = this.settings.parallel > 1 ? `, in ${this.settings.parallel} partial uploads concatenated by the server` : '';
    this.setDetail(`Stored through tus${parallel}: `, el('code', 'checksum', `/api/files/${this.uploadId ?? ''}`));
    this.actions.replaceChildren();
    announce(`${this.file.name}: complete (tus)`);
  }

  private finishComplete(result: UploadResult): void {
    this.progress.value = this.progress.max;
    this.percent.textContent = '100%';
    const seconds = result.durationMs / 1000;
    this.speed.textContent = seconds > 0 ? `${formatRate(result.sentBytes / seconds)} avg` : '–';
    this.setState('complete', 'Complete');
    if (result.checksum !== null && result.algorithm !== null) {
      this.element.dataset.checksum = result.checksum;
      this.element.dataset.algorithm = result.algorithm;
      const code = el('code', 'checksum', result.checksum);
      this.setDetail(`${ALGORITHM_LABEL[result.algorithm]} confirmed by the server: `, code);
    } else {
      this.setDetail(result.message);
    }
    this.actions.replaceChildren();
    announce(`${this.file.name}: complete, ${result.algorithm !== null ? `${ALGORITHM_LABEL[result.algorithm]} checksum confirmed` : result.message}`);
  }

  private finishCancelled(deleted: boolean): void {
    this.setState('cancelled', 'Cancelled');
    this.speed.textContent = '–';
    this.setDetail(deleted && this.uploadId !== undefined ? 'The partial upload was deleted on the server.' : '');
    this.actions.replaceChildren();
    announce(`${this.file.name}: cancelled`);
  }

  private finishFailed(error: unknown): void {
    const message = errorMessage(error);
    this.setState('failed', 'Failed');
    this.speed.textContent = '–';
    this.element.dataset.error = message;
    this.setDetail(el('span', 'error', message));
    const retryable = error instanceof UploadError ? error.status !== 400 || this.uploadId !== undefined : true;
    if (retryable) {
      const retry = el('button', 'button button-small', this.uploadId === undefined ? 'Retry' : 'Resume');
      retry.type = 'button';
      retry.setAttribute('aria-label', `${retry.textContent} upload of ${this.file.name}`);
      retry.addEventListener('click', () => {
        this.controller = new AbortController();
        this.settings.token = currentToken();
        enqueue(this);
      });
      this.actions.replaceChildren(retry);
    } else {
      this.actions.replaceChildren();
    }
    announce(`${this.file.name}: failed. ${message}`);
  }

  markQueued(): void {
    this.setState('queued', 'Queued');
    this.actions.replaceChildren(this.cancelButton);
  }
}
