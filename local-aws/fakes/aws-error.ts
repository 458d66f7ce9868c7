/**
 * An error as AWS reports it: a code (`InvalidVpcEndpointServiceId.NotFound`), a message (AWS
 * omits it for some errors, e.g. SSM's `ParameterNotFound`) and an HTTP status. Each protocol
 * module renders it in its own wire format.
 *
 * It is named by its code, as the SDK names the exceptions it parses: thrown through a mocked
 * client (the guard's unit tests answer from the EC2 model), it reads as the SDK's would.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message = '',
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}
