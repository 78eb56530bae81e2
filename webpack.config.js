import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SpinSdkPlugin from '@fermyon/spin-sdk/plugins/webpack/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

// One ES module bundle for componentize-js; Spin/WASI imports stay external so j2w binds them to the
// component's imports.
export default {
  entry: './src/index.ts',
  experiments: { outputModule: true },
  module: {
    rules: [{ test: /\.ts$/, use: 'ts-loader', exclude: /node_modules/ }],
  },
  resolve: { extensions: ['.ts', '.js'] },
  output: {
    path: path.resolve(here, 'build'),
    filename: 'bundle.js',
    module: true,
    library: { type: 'module' },
  },
  plugins: [new SpinSdkPlugin()],
  optimization: { minimize: false },
  performance: { hints: false },
};
