// One error type for bad dataset input, so callers can tell it from bugs. Messages start with the
// offending file and say what is wrong with it.

export class DataError extends Error {
  override name = 'DataError';
}
