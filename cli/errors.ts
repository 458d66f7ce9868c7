/**
 * The two ways a command fails, and the one line each becomes on stderr.
 */

/** Exit codes: 0 ok, 1 invalid policy or operational failure, 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong: exit 2, with a pointer to the command's --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command could not do its job: exit 1. `details` follow the message, one per line. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** `error: message` (or `warning: …`), then each detail indented on its own line. */
export function formatProblem(
  label: 'error' | 'warning',
  message: string,
  details: readonly string[] = [],
): string {
  return [`${label}: ${message}`, ...details.map((d) => `  ${d}`)].join('\n') + '\n';
}

/** The AWS SDK's message when no source of its chain names a Region. */
export const REGION_MISSING = 'Region is missing';
/** Unlike the AWS CLI, the AWS SDK for JavaScript v3 reads AWS_REGION only. */
export const AWS_DEFAULT_REGION_IGNORED = 'the AWS SDK ignores AWS_DEFAULT_REGION';

/**
 * One line for an error the CLI did not raise itself: the SDK's configuration problems get
 * what to do about them, an AWS error its code and message.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message === REGION_MISSING) {
    return `no AWS Region: pass --region, set AWS_REGION (${AWS_DEFAULT_REGION_IGNORED}), or set a region in your AWS profile`;
  }
  if (error.name === 'CredentialsProviderError') {
    return `no AWS credentials: ${firstLine(error.message)} (pass --profile, or configure the standard credential chain)`;
  }
  const message = firstLine(error.message);
  return message && message !== error.name ? `${error.name}: ${message}` : error.name;
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}
