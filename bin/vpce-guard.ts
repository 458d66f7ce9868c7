#!/usr/bin/env node
/**
 * The vpce-guard CDK app: one stack, configured through cdk.json context (docs/configuration.md),
 * checked by cdk-nag's AWS Solutions rules on every synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { VpceGuardStack } from '../lib';

const app = new App();
new VpceGuardStack(app, 'VpceGuard');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
