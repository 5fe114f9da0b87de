/**
 * Thrown at boot when the host app is set up in a way the module cannot work
 * with (a missing table, a missing EventEmitterModule, the Express adapter…).
 * The message names the cause and the fix.
 * @publicApi
 */
export class FragoSetupError extends Error {
  constructor(message: string) {
    super(`nestjs-frago: ${message}`);
    this.name = 'FragoSetupError';
  }
}
