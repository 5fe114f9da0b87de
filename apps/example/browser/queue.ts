/** Files wait here and upload one at a time (each with its own parallel chunks). */
import type { FileRow } from './file-row';
import { isUserMode } from './settings';
import { refreshList } from './upload-list';

const queue: FileRow[] = [];
let pumping = false;

export function enqueue(row: FileRow): void {
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
      if (isUserMode()) void refreshList();
    }
  } finally {
    pumping = false;
  }
}
