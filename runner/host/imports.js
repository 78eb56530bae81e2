// Everything a Spin HTTP component of this SDK generation imports, keyed the way jco's
// instantiate() looks them up (interface name without the version).
import { outgoingHandler, httpTypes } from '../wasi/http.js';
import { InputStream, IoError, OutputStream, Pollable, poll } from '../wasi/io.js';
import { systemImports } from '../wasi/system.js';
import { keyValueImport } from './key-value.js';
import { variablesImport } from './variables.js';

/**
 * @param {{ allowedLabels: string[], backendFor: Parameters<typeof keyValueImport>[0]['backendFor'],
 *   variables: Map<string, string>, logs?: Parameters<typeof systemImports>[0] }} component
 */
export function hostImports({ allowedLabels, backendFor, variables, logs }) {
  return {
    ...systemImports(logs),
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable, poll },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:http/types': httpTypes,
    'wasi:http/outgoing-handler': outgoingHandler,
    'fermyon:spin/key-value': keyValueImport({ allowedLabels, backendFor }),
    'fermyon:spin/variables': variablesImport(variables),
  };
}
