import { type z } from 'zod';

/**
 * The one way closeloop turns a failed zod parse into words, at every boundary: HTTP answers, signals,
 * connector responses, configuration files and simulator error bodies all name the offending fields the
 * same way.
 */

export interface FieldIssue {
  field: string;
  message: string;
}

/** Field-level issues; the root of the input is named `root` (for a body, "(body)"). */
export function fieldIssues(error: z.ZodError, root = '(body)'): FieldIssue[] {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.') || root, message: i.message }));
}

/** The same issues on one line, for a status entry, an error message or a log. */
export function describeIssues(error: z.ZodError, root = '(body)'): string {
  return fieldIssues(error, root)
    .map((i) => `${i.field}: ${i.message}`)
    .join('; ');
}
