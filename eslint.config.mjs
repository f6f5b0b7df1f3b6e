// Lint: typescript-eslint's recommended rules, no import circles in src/ and webview/ (value and
// type imports alike: tools/lint/noCycle.mjs), and the engine's independence (src/core imports
// nothing of vscode, src/host, src/worker or src/shared). `npm run lint`; `npm test` runs it.
import tseslint from 'typescript-eslint';
import qatLens from './tools/lint/noCycle.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'tools/gpu/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // The code base's own conventions, kept as they are.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    plugins: { 'qat-lens': qatLens },
    rules: {
      // Every circle counts, type-only ones too: the first value import on such a loop is an init-order bug.
      'qat-lens/no-cycle': 'error',
    },
  },
  {
    // The tfjs executor's two files import each other; the QC-loop branch deletes both (qcloop cb3b169).
    // Remove this entry when that branch is merged.
    files: ['src/core/qc/tfGraph.ts', 'src/core/qc/tfOps.ts'],
    rules: { 'qat-lens/no-cycle': 'off' },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/core is the engine: it imports nothing of vscode.' }],
          patterns: [
            {
              regex: '(^|/)(shared|host|worker)(/|$)',
              message: 'src/core imports nothing of src/shared, src/host or src/worker (they import core).',
            },
          ],
        },
      ],
    },
  },
);
