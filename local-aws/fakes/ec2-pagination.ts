/**
 * EC2's NextToken pagination over rows kept in creation order. A token is a cursor (the sequence
 * number of the last row returned), so it stays valid while rows change between pages, and a
 * page costs a scan from the cursor to the first match after the page, not a pass over all rows.
 */
import { AwsError } from './aws-error';

/** A stored item and its creation sequence number, by which pages are cut. */
export interface Row<T> {
  seq: number;
  value: T;
}

/** The largest page EC2 serves, whatever `MaxResults` asks. */
const MAX_PAGE = 1000;
const MIN_PAGE = 5;

/** The paging members of a Describe request. */
export interface PageRequest {
  MaxResults?: number;
  NextToken?: string;
}

/**
 * One page of `rows` (sorted by seq) after `request.NextToken`, of at most
 * `request.MaxResults` matches and never more than `limit`. The token names the last row
 * returned; it is issued only if another match follows, which costs one scan to that match,
 * the place where the next page starts anyway.
 */
export function paginate<T>(
  rows: readonly Row<T>[],
  request: PageRequest,
  matches: (value: T) => boolean,
  limit = MAX_PAGE,
): { page: T[]; nextToken?: string } {
  const size = Math.min(pageSize(request.MaxResults), limit);
  const token = request.NextToken;
  const page: Row<T>[] = [];
  const start = token === undefined ? 0 : firstAfter(rows, decodeToken(token));
  for (let i = start; i < rows.length; i++) {
    const row = rows[i] as Row<T>;
    if (!matches(row.value)) continue;
    const last = page[size - 1]; // set once the page is full: this match opens the next page
    if (last) return { page: page.map((r) => r.value), nextToken: encodeToken(last.seq) };
    page.push(row);
  }
  return { page: page.map((r) => r.value) };
}

/** 5 to 1,000; AWS documents that larger values return 1,000 results, not an error. */
function pageSize(size: number | undefined): number {
  if (size === undefined) return MAX_PAGE;
  if (!Number.isInteger(size) || size < MIN_PAGE) {
    throw new AwsError(
      'InvalidParameterValue',
      `Value ( ${size} ) for parameter maxResults is invalid. Expecting a value greater than or equal to ${MIN_PAGE}.`,
    );
  }
  return Math.min(size, MAX_PAGE);
}

/** Index of the first row whose seq is greater than `seq` (binary search: rows are sorted). */
function firstAfter(rows: readonly Row<unknown>[], seq: number): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((rows[mid] as Row<unknown>).seq <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Opaque to clients, like AWS's: the seq of the last row returned. */
const encodeToken = (seq: number): string => Buffer.from(`after:${seq}`).toString('base64url');

function decodeToken(token: string): number {
  const seq = /^after:(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString())?.[1];
  if (seq === undefined) {
    throw new AwsError('InvalidPaginationToken', 'The specified pagination token is not valid.');
  }
  return Number(seq);
}
