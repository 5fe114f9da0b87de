/**
 * The example app's demo page (served at `/`): drop or pick files, upload
 * each with nestjs-frago-client (frago protocol) or tus-js-client (tus 1.0
 * at /api/files/, when the server has it on), show progress, speed and the
 * checksum the server confirmed; in `user` mode, a bearer-token field and the
 * caller's upload list. Bundled by esbuild into public/assets/demo.js
 * (scripts/ensure-built.js); no framework.
 *
 * This entry wires the page's events; `file-row.ts` is one file's row and upload
 * (`tus-upload.ts` its tus way), `queue.ts` runs them one at a time, `upload-list.ts`
 * is the caller's list, `settings.ts` the form's options and `dom.ts` the elements.
 */
import { announce, ui } from './dom';
import { FileRow } from './file-row';
import { enqueue } from './queue';
import { TOKEN_KEY, TUS_URL, readSettings } from './settings';
import { refreshList } from './upload-list';

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
