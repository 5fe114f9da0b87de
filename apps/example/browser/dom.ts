/** The demo page's elements and the small DOM and text helpers every part of it uses. */

/** The element with `id`, typed; the page's markup is fixed, so a missing one is a bug. */
function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`demo page: #${id} is missing`);
  return element;
}

/** Creates an element with a class and optional text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== undefined) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Decimal megabytes per second: 12.3 MB/s. */
export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond >= 1e8 ? 0 : 1)} MB/s`;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const ui = {
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

/** Tells screen readers about a state change (the rows themselves are not live regions: percentages change too often). */
export function announce(text: string): void {
  ui.announcer.textContent = '';
  // A fresh text node in a later task is announced even when the text repeats.
  setTimeout(() => (ui.announcer.textContent = text), 50);
}
