/**
 * The services that status and reconcile look at: those named with --service, else every
 * one the account owns in the Region, as the guard does when no protected services are set.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { listOwnedServices, type OwnedService } from '../core/ec2';
import { isServiceId } from '../core/ids';
import { type AwsClients, regionOf } from './aws';
import { LIVE_POLICY_OPTIONS } from './command';
import { UsageError } from './errors';
import type { Output } from './io';

/** --service, with the options of every command that reads the live policy. */
export const SERVICES_OPTIONS = {
  ...LIVE_POLICY_OPTIONS,
  service: { type: 'string', multiple: true },
} as const satisfies ParseArgsOptionsConfig;

/** A --service value, checked before any AWS call or file read. */
export function checkServiceId(id: string): string {
  if (!isServiceId(id)) {
    throw new UsageError(`--service: "${id}" is not an endpoint service ID (vpce-svc-…)`);
  }
  return id;
}

/** Every --service value, checked, without repeats. */
export function serviceIdsOption(values: readonly string[] | undefined): readonly string[] {
  return [...new Set((values ?? []).map(checkServiceId))];
}

export interface Targets {
  readonly serviceIds: readonly string[];
  /** The clients' Region: that of consumers whose connection names none. */
  readonly homeRegion: string;
  /** Each service's configuration, when they were listed (no --service). */
  readonly services?: readonly OwnedService[];
}

/** The services to look at; says so on `out` when there are none, which is often the wrong Region. */
export async function resolveTargets(
  aws: AwsClients,
  named: readonly string[],
  out: Output,
): Promise<Targets> {
  const services = named.length > 0 ? undefined : await listOwnedServices(aws.ec2);
  const serviceIds = services ? services.map((s) => s.serviceId) : named;
  const homeRegion = await regionOf(aws);
  if (serviceIds.length === 0) {
    out.write(
      `\nNo endpoint service: this account owns none in ${homeRegion} (check --region and --profile).\n`,
    );
  }
  return { serviceIds, homeRegion, ...(services ? { services } : {}) };
}
