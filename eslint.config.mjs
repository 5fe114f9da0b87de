// ESLint flat config: typescript-eslint's strict type-checked rules over every TypeScript file.
// Formatting is Prettier's job (npm run format), so no stylistic rules here.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'apps/example/public/**',
      'coverage/**',
      'test-artifacts/**',
      'data/**',
      'tmp/**',
      'compat/**',
      '.ci/tools/**',
      'test/pack/app-template/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Template literals with numbers are how sizes and offsets are printed throughout.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `_`-prefixed names mark parameters an interface requires but an implementation does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Nest modules and strategies are classes with only static members or decorators by design.
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true, allowStaticOnly: true }],
      // node:test's describe/it/before/after return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach', 'suite'] },
          ],
        },
      ],
      // Nest types its bootstrap options as classes (NestApplicationContextOptions); a plain object
      // literal is how every Nest app passes them.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // `(x) => void-call()` callbacks (listeners, hooks, `.catch(() => undefined)`) read better short.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // A `let` that a callback set up earlier reads (a child process the proxy kills) cannot be `const`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests: `let app: TestApp` assigned in before() may still be unset in after() when before() failed,
    // so after() hooks guard with `?.` that the types call unnecessary; and a test may assert with `!`
    // what it has just checked.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Test doubles implement async interfaces (ChunkStorage, fs handles) without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
