/**
 * The `vpce-guard` operator CLI's entry point (see cli/main.ts): the real process's
 * arguments, streams, environment, clock and AWS clients.
 */
import { processIo } from '../cli/io';
import { main } from '../cli/main';

main(process.argv.slice(2), processIo()).then((code) => {
  // exitCode, not exit(): stdout may still be flushing into a pipe.
  process.exitCode = code;
});
