/**
 * The example app's demo page (served at `/`): drop or pick files, upload
 * each with nestjs-frago-client (frago protocol) or tus-js-client (tus 1.0
 * at /api/files/, when the server has it on), show progress, speed and the
 * checksum the server confirmed; in `user` mode, a bearer-token field and the
 * caller's upload list. Bundled by esbuild into public/assets/demo.js
 * (scripts/ensure-built.js); no framework.
 */
import { Upload as TusUpload } from 'tus-js-client';
import {
  formatBytes,
  upload,
  UploadAbortedError,
  UploadError,
  type ChecksumAlgorithm,
  type UploadProgress,
  type UploadResult,
  type UploadStatusResponse,
} from 'nestjs-frago-client';

/** One entry of `GET /api/upload/`. */
type ListEntry = Omit<UploadStatusResponse, 'chunks' | 'missing'>;

/** What the server said about listing, which is also how the page learns the identifier mode. */
type ListAnswer = { kind: 'ok'; uploads: ListEntry[] } | { kind: 'anonymous' } | { kind: 'unauthorized'; message: string } | { kind: 'error'; message: string };

type Protocol = 'frago' | 'tus';

type RowState = 'queued' | 'uploading' | 'verifying' | 'complete' | 'failed' | 'cancelled';

/** Options captured when a file is added, so changing them later does not affect files already queued. */
interface UploadSettings {
  protocol: Protocol;
  chunkSize: number;
  parallel: number;
  checksum: ChecksumAlgorithm;
  token: string | undefined;
}

const API_URL = new URL('/api', location.href).href;
/** The example app's tus endpoint (FRAGO_TUS_PATH, `files` by default). */
const TUS_URL = new URL('/api/files/', location.href).href;
const TOKEN_KEY = 'nestjs-frago-demo.token';
const LIST_LIMIT = 20;
const ALGORITHM_LABEL: Record<ChecksumAlgorithm, string> = { md5: 'MD5', sha256: 'SHA-256' };

/** The element with `id`, typed; the page's markup is fixed, so a missing one is a bug. */
function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`demo page: #${id} is missing`);
  return element;
}

/** Creates an element with a class and optional text. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== undefined) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Decimal megabytes per second: 12.3 MB/s. */
function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond >= 1e8 ? 0 : 1)} MB/s`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const ui = {
  mode: byId('mode', HTMLElement),
  dropZone: byId('drop-zone', HTMLElement),
  fileInput: byId('file-input', HTMLInputElement),
  protocolField: byId('protocol-field', HTMLElement),
  protocol: byId('protocol', HTMLSelectElement),
  chunkSize: byId('chunk-size', HTMLSelectElement),
  parallel: byId('parallel', HTMLInputElement),
  algorithm: byId('algorithm', HTMLSelectElement),
  tokenField: byId('token-field', HTMLElement),
  token: byId('token', HTMLInputElement),
  empty: byId('empty', HTMLElement),
  files: byId('files', HTMLUListElement),
  announcer: byId('announcer', HTMLElement),
  listSection: byId('list-section', HTMLElement),
  listStatus: byId('list-status', HTMLElement),
  listTable: byId('list-table', HTMLTableElement),
  listBody: byId('list-body', HTMLTableSectionElement),
  refreshList: byId('refresh-list', HTMLButtonElement),
};

/** True once the server answered 401 to listing: `user` mode, where a token is needed. */
let userMode = false;

/** Tells screen readers about a state change (the rows themselves are not live regions: percentages change too often). */
function announce(text: string): void {
  ui.announcer.textContent = '';
  // A fresh text node in a later task is announced even when the text repeats.
  setTimeout(() => (ui.announcer.textContent = text), 50);
}

function currentToken(): string | undefined {
  const token = ui.token.value.trim();
  return userMode && token !== '' ? token : undefined;
}

function readSettings(): UploadSettings {
  const parallel = Math.min(16, Math.max(1, Math.round(Number(ui.parallel.value) || 4)));
  ui.parallel.value = String(parallel);
  const checksum: ChecksumAlgorithm = ui.algorithm.value === 'sha256' ? 'sha256' : 'md5';
  const protocol: Protocol = ui.protocol.value === 'tus' && !ui.protocolField.hidden ? 'tus' : 'frago';
  return { protocol, chunkSize: Number(ui.chunkSize.value), parallel, checksum, token: currentToken() };
}

/** One file: its row in the list and its upload. */
class FileRow {
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

  /**
   * The tus way: tus-js-client against /api/files/. `parallel` > 1 becomes
   * `parallelUploads` (partial uploads the server concatenates); Cancel
   * terminates the upload on the server (DELETE). The upload's UUID is the
   * last segment of its URL, the same id `GET /api/upload/<id>/` knows.
   */
  private async runTus(): Promise<void> {
    const started = performance.now();
    const signal = this.controller.signal;
    const headers: Record<string, string> = this.settings.token === undefined ? {} : { Authorization: `Bearer ${this.settings.token}` };
    try {
      await new Promise<void>((resolve, reject) => {
        this.tus ??= new TusUpload(this.file, {
          endpoint: TUS_URL,
          chunkSize: this.settings.chunkSize,
          parallelUploads: this.settings.parallel,
          metadata: { filename: this.file.name, filetype: this.file.type || 'application/octet-stream' },
          retryDelays: [0, 1000, 3000],
          storeFingerprintForResuming: false,
        });
        const tus = this.tus;
        tus.options.headers = headers;
        tus.options.onUploadUrlAvailable = () => this.rememberTusUrl(tus.url);
        tus.options.onProgress = (sent, total) => {
          this.tusProgress(sent, total, started);
        };
        tus.options.onSuccess = () => {
          resolve();
        };
        tus.options.onError = (error) => {
          reject(error);
        };
        signal.addEventListener('abort', () => reject(new UploadAbortedError(this.uploadId)), { once: true });
        tus.start();
      });
      this.rememberTusUrl(this.tus?.url ?? null);
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
    const id = url?.split('/').pop();
    if (id === undefined || id === '') return;
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

/** Files wait here and upload one at a time (each with its own parallel chunks). */
const queue: FileRow[] = [];
let pumping = false;

function enqueue(row: FileRow): void {
  row.markQueued();
  queue.push(row);
  void pump();
}

async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    for (let row = queue.shift(); row !== undefined; row = queue.shift()) {
      if (row.cancelled) continue;
      await row.run();
      if (userMode) void refreshList();
    }
  } finally {
    pumping = false;
  }
}

function addFiles(files: FileList | null): void {
  if (files === null || files.length === 0) return;
  const settings = readSettings();
  for (const file of Array.from(files)) {
    const row = new FileRow(file, { ...settings });
    ui.files.append(row.element);
    enqueue(row);
  }
  ui.empty.hidden = true;
  announce(`${files.length} ${files.length === 1 ? 'file' : 'files'} added`);
}

/** `GET /api/upload/?limit=20` with the current token. */
async function fetchList(): Promise<ListAnswer> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = ui.token.value.trim();
  if (token !== '') headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(`${API_URL}/upload/?limit=${LIST_LIMIT}`, { headers, cache: 'no-store' });
  } catch (error) {
    return { kind: 'error', message: `Could not reach the server: ${errorMessage(error)}` };
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok && Array.isArray(body)) return { kind: 'ok', uploads: body as ListEntry[] };
  const fields = (body ?? {}) as { message?: unknown; error?: unknown };
  const message = typeof fields.message === 'string' ? fields.message : typeof fields.error === 'string' ? fields.error : `HTTP ${response.status}`;
  // Anonymous mode refuses listing with 403; `user` mode without (or with a wrong) token answers 401.
  if (response.status === 403 && token === '') return { kind: 'anonymous' };
  if (response.status === 401 || response.status === 403) return { kind: 'unauthorized', message };
  return { kind: 'error', message };
}

function renderList(uploads: ListEntry[]): void {
  const rows = uploads.map((entry) => {
    const tr = el('tr');
    tr.dataset.uploadId = entry.upload_id;
    const name = el('td', 'file-name', entry.filename);
    name.title = entry.filename;
    const size = el('td', 'num', formatBytes(entry.total_size));
    const status = el('td');
    status.append(el('span', `badge badge-${entry.status}`, entry.status.replace('_', ' ')));
    const created = el('td', undefined, new Date(entry.created_at).toLocaleString());
    const id = el('td');
    const code = el('code', undefined, entry.upload_id.slice(0, 8));
    code.title = entry.upload_id;
    id.append(code);
    tr.append(name, size, status, created, id);
    return tr;
  });
  ui.listBody.replaceChildren(...rows);
  ui.listTable.hidden = uploads.length === 0;
  ui.listStatus.textContent = uploads.length === 0 ? 'No uploads yet.' : `${uploads.length} ${uploads.length === 1 ? 'upload' : 'uploads'}, newest first.`;
}

/** Reloads the caller's list; on the first call, also decides which mode the page is in. */
async function refreshList(): Promise<void> {
  const answer = await fetchList();
  switch (answer.kind) {
    case 'anonymous':
      userMode = false;
      ui.tokenField.hidden = true;
      ui.listSection.hidden = true;
      ui.mode.textContent = 'Anonymous mode: anyone holding an upload’s id can resume it; the server keeps no per-user list.';
      break;
    case 'ok':
      userMode = true;
      ui.tokenField.hidden = false;
      ui.listSection.hidden = false;
      ui.mode.textContent = 'User mode: uploads belong to the user of the bearer token.';
      renderList(answer.uploads);
      break;
    case 'unauthorized':
      userMode = true;
      ui.tokenField.hidden = false;
      ui.listSection.hidden = false;
      ui.mode.textContent = 'User mode: enter a bearer token (e.g. one from FRAGO_DEMO_TOKENS) to upload.';
      ui.listTable.hidden = true;
      ui.listStatus.textContent = ui.token.value.trim() === '' ? 'Enter a token to see your uploads.' : `The server refused the token: ${answer.message}`;
      break;
    case 'error':
      ui.listStatus.textContent = `Could not load the list: ${answer.message}`;
      if (!userMode) ui.mode.textContent = `Could not ask the server which mode it runs in: ${answer.message}`;
      break;
  }
}

function wireEvents(): void {
  ui.fileInput.addEventListener('change', () => {
    addFiles(ui.fileInput.files);
    ui.fileInput.value = '';
  });

  // Dropping anywhere else must not navigate away from the page (and lose running uploads).
  for (const type of ['dragover', 'drop'] as const) window.addEventListener(type, (event) => event.preventDefault());
  let depth = 0;
  ui.dropZone.addEventListener('dragenter', (event) => {
    event.preventDefault();
    depth++;
    ui.dropZone.classList.add('drag-over');
  });
  ui.dropZone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) ui.dropZone.classList.remove('drag-over');
  });
  ui.dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    if (event.dataTransfer !== null) event.dataTransfer.dropEffect = 'copy';
  });
  ui.dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    ui.dropZone.classList.remove('drag-over');
    addFiles(event.dataTransfer?.files ?? null);
  });

  ui.token.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
  ui.token.addEventListener('input', () => sessionStorage.setItem(TOKEN_KEY, ui.token.value.trim()));
  ui.token.addEventListener('change', () => void refreshList());
  ui.refreshList.addEventListener('click', () => void refreshList());
}

/** Offers tus only when the server speaks it (an OPTIONS answer with Tus-Version, tus §OPTIONS). */
async function detectTus(): Promise<void> {
  const answer = await fetch(TUS_URL, { method: 'OPTIONS' }).catch(() => null);
  ui.protocolField.hidden = answer?.headers.get('tus-version')?.split(',').includes('1.0.0') !== true;
  document.body.dataset.tus = ui.protocolField.hidden ? 'off' : 'on';
}

wireEvents();
void Promise.all([refreshList(), detectTus()]).finally(() => document.body.setAttribute('data-ready', ''));
