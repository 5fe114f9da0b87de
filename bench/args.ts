/** Command-line options of `npm run bench`. */
import { SCENARIO_LETTERS } from './scenarios';

export type DbKind = 'sqlite' | 'postgres' | 'mysql';

export interface BenchOptions {
  quick: boolean;
  /** Scenario letters to run, in order (subset of a–h). */
  scenarios: string[];
  /** Measured runs per server and scenario. */
  runs: number;
  db: DbKind;
  jsonFile: string | null;
  markdown: boolean;
  cpuProfDir: string | null;
  /** Run a second baseline process in place of the example app (harness self-check). */
  onlyBaseline: boolean;
  /** Re-hash every assembled file with node:crypto after the run (outside the timings). */
  verifyHash: boolean;
  /** A small upload to each fresh server before the measured runs. */
  warmup: boolean;
  /** The baseline flushes (fdatasync) each chunk before acknowledging it. */
  baselineFsync: boolean;
  /** Rows with a throughput target also run the app with fsync off (what durability costs). */
  ablate: boolean;
  /** Parent folder of the temporary working folder. */
  tmpParent: string | null;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

  --quick              small sizes, one run each (well under a minute)
  --scenario a,e,g     scenarios to run (default: all, a–h; see bench/README.md)
  --runs N             measured runs per server and scenario (default 3, --quick 1)
  --db sqlite|postgres|mysql
                       the example app's database for every scenario (default sqlite;
                       scenario d runs on SQLite, PostgreSQL and MariaDB/MySQL)
  --json FILE          also write the results as JSON
  --markdown           print the table as Markdown
  --cpu-prof DIR       profile the app (node --cpu-prof) and print its top functions
  --only-baseline      benchmark a second baseline server in place of the app
  --no-verify-hash     skip re-hashing each assembled file after its run
  --no-warmup          skip the warm-up upload to each fresh server
  --baseline-fsync     the baseline fdatasyncs each chunk before acknowledging it
                       (the ceiling for durable chunk storage)
  --ablate             rows with a throughput target also run the app with fsync off
                       (FRAGO_FSYNC=false) and, for 64 KiB rows, the flushing baseline:
                       what acknowledging only durable chunks costs, apart from the rest
  --tmp DIR            where to create the temporary working folder (default: OS temp)
  --help               this text

Databases are created on postgres://postgres@127.0.0.1:5432/ and mysql://root@127.0.0.1:3306/
unless BENCH_POSTGRES_URL / BENCH_MYSQL_URL name another server.
`;

/** The flags that set options to fixed values. */
const SWITCHES = new Map<string, Partial<BenchOptions>>([
  ['--quick', { quick: true }],
  ['--markdown', { markdown: true }],
  ['--only-baseline', { onlyBaseline: true }],
  ['--no-verify-hash', { verifyHash: false }],
  ['--no-warmup', { warmup: false }],
  ['--baseline-fsync', { baselineFsync: true }],
  ['--ablate', { ablate: true }],
  ['--help', { help: true }],
  ['-h', { help: true }],
]);

/** The flags whose value, a file or folder name, is the option's. */
const PATH_OPTIONS = new Map<string, 'jsonFile' | 'cpuProfDir' | 'tmpParent'>([
  ['--json', 'jsonFile'],
  ['--cpu-prof', 'cpuProfDir'],
  ['--tmp', 'tmpParent'],
]);

function requireValue(argv: string[], index: number, flag: string): string {
  const value = argv.at(index + 1);
  if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
  return value;
}

export function parseArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    quick: false,
    scenarios: [...SCENARIO_LETTERS],
    runs: 0,
    db: 'sqlite',
    jsonFile: null,
    markdown: false,
    cpuProfDir: null,
    onlyBaseline: false,
    verifyHash: true,
    warmup: true,
    baselineFsync: false,
    ablate: false,
    tmpParent: null,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = requireValue(argv, i, flag);
      i++;
      return v;
    };
    const fixed = SWITCHES.get(flag);
    const path = PATH_OPTIONS.get(flag);
    if (fixed !== undefined) {
      Object.assign(options, fixed);
      continue;
    }
    if (path !== undefined) {
      options[path] = value();
      continue;
    }
    switch (flag) {
      case '--scenario':
      case '--scenarios': {
        const letters = value()
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter((s) => s.length > 0);
        for (const letter of letters) {
          if (!SCENARIO_LETTERS.includes(letter)) throw new Error(`unknown scenario "${letter}" (expected one of ${SCENARIO_LETTERS.join(', ')})`);
        }
        if (letters.length === 0) throw new Error('--scenario needs at least one letter');
        options.scenarios = SCENARIO_LETTERS.filter((l) => letters.includes(l));
        break;
      }
      case '--runs': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 50) throw new Error('--runs must be an integer from 1 to 50');
        options.runs = n;
        break;
      }
      case '--db': {
        const db = value();
        if (db !== 'sqlite' && db !== 'postgres' && db !== 'mysql') throw new Error('--db must be sqlite, postgres or mysql');
        options.db = db;
        break;
      }
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  if (options.runs === 0) options.runs = options.quick ? 1 : 3;
  return options;
}
