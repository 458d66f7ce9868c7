/**
 * Reading every page of a paginated AWS call.
 *
 * The SDK's own `paginate*` helpers reuse one input object for every page, so a test that
 * records each call's input (aws-sdk-client-mock) sees the last token in all of them; here
 * each page gets a request of its own.
 */

/**
 * Calls `fetch` with each page's `NextToken` (undefined for the first) until a page has none,
 * handing each page to `onPage`. A token that comes back twice would read the same pages
 * forever: that throws, naming it.
 */
export async function forEachPage<P extends { NextToken?: string | undefined }>(
  fetch: (nextToken: string | undefined) => Promise<P>,
  onPage: (page: P) => void,
): Promise<void> {
  const seen = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await fetch(nextToken);
    onPage(page);
    nextToken = page.NextToken || undefined;
    if (nextToken === undefined) break;
    if (seen.has(nextToken)) {
      throw new Error(
        `AWS answered the NextToken "${nextToken.slice(0, 64)}" twice: stopped reading rather than read the same pages forever`,
      );
    }
    seen.add(nextToken);
  } while (nextToken);
}
