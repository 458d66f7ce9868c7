// The cold-start floor: the least any guard must load, one constructed EC2 client. Bundled
// with the guard's own settings, so the ratio guard / floor is what the guard's code adds.
import { EC2Client } from '@aws-sdk/client-ec2';

export const ec2 = new EC2Client({});
