/** Error helpers shared by all parts. */

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
