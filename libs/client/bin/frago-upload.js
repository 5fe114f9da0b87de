#!/usr/bin/env node
// Committed, executable launcher for the compiled CLI: npm links bins at install
// time, before dist/ exists, so the bin cannot point at a file tsc emits later.
'use strict';
require('../dist/cli/frago-upload.js');
