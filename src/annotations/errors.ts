// Bad annotations (a file that cannot be read, a feature that cannot be used): messages start with the file and
// name the feature, so the annotator knows what to fix in QuPath.

export class AnnotationError extends Error {
  override name = 'AnnotationError';
}
