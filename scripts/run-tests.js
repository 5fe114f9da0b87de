#!/usr/bin/env node
// Builds, then runs every compiled *.spec.js under test/dist with node's test runner.
// Usage: npm test [-- substring ...]   (only spec files whose path contains a substring)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
require('./ensure-built.js');

function findSpecs(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findSpecs(full);
    return entry.name.endsWith('.spec.js') ? [full] : [];
  });
}

const filters = process.argv.slice(2);
const specs = findSpecs(path.join(root, 'test', 'dist'))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (specs.length === 0) {
  console.error('No test files found');
  process.exit(1);
}

/** Whether a PostgreSQL server answers at `url` (one connection, SELECT 1, 3 s at most). */
async function postgresAnswers(url) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    return error.code || error.message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a MySQL/MariaDB server answers at `url`. */
async function mysqlAnswers(url) {
  const { createConnection } = require('mysql2/promise');
  let connection;
  try {
    connection = await createConnection({ uri: url, connectTimeout: 3000 });
    await connection.query('SELECT 1');
    return true;
  } catch (error) {
    return error.code || error.message;
  } finally {
    await connection?.end().catch(() => undefined);
  }
}

/**
 * The databases to cover: SQLite always; a server database from its TEST_*_URL, or, when the
 * variable is unset, the default local server when it answers (an empty variable opts out).
 */
async function chooseDatabases() {
  const servers = [
    { kind: 'postgres', variable: 'TEST_POSTGRES_URL', defaultUrl: 'postgres://postgres@127.0.0.1:5432/postgres', answers: postgresAnswers },
    { kind: 'mysql', variable: 'TEST_MYSQL_URL', defaultUrl: 'mysql://root@127.0.0.1:3306/test', answers: mysqlAnswers },
  ];
  const covered = ['sqlite'];
  const notes = [];
  for (const server of servers) {
    const given = process.env[server.variable];
    if (given) {
      covered.push(server.kind);
      continue;
    }
    if (given === '') {
      notes.push(`${server.kind}: off (${server.variable} is empty)`);
      continue;
    }
    const answer = await server.answers(server.defaultUrl);
    if (answer === true) {
      process.env[server.variable] = server.defaultUrl;
      covered.push(server.kind);
      notes.push(`${server.kind}: ${server.variable} unset, using the local server at ${server.defaultUrl}`);
    } else {
      notes.push(`${server.kind}: NOT covered (${server.variable} unset and ${server.defaultUrl} does not answer: ${answer})`);
    }
  }
  return { covered, notes };
}

async function main() {
  const { covered, notes } = await chooseDatabases();
  for (const note of notes) console.log(note);
  console.log(`Running ${specs.length} spec files on: ${covered.join(', ')}`);
  const concurrency = process.env.TEST_CONCURRENCY || '3';
  const env = { ...process.env, NODE_ENV: 'test' };
  // Spec files that install packages from the registry (test/dist/pack) take minutes as a
  // whole, beyond the per-file timeout of the rest: they run after it, with their own.
  const long = specs.filter((file) => file.includes(`${path.sep}pack${path.sep}`));
  const regular = specs.filter((file) => !long.includes(file));
  let status = 0;
  if (regular.length > 0) {
    const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...regular], {
      cwd: root,
      stdio: 'inherit',
      env,
    });
    status = result.status ?? 1;
  }
  if (long.length > 0) {
    // Their tests set their own timeouts (a step's process group is killed first; the spec prints the limit).
    console.log(`Running ${long.length} packed-package spec file(s)`);
    const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...long], { cwd: root, stdio: 'inherit', env });
    status = status || (result.status ?? 1);
  }
  process.exit(status);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
