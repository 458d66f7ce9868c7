#!/usr/bin/env node
/**
 * The vpce-guard CDK app: one stack, or one per environment of a fleet, configured through
 * cdk.json context (docs/configuration.md, docs/fleet.md), checked by cdk-nag's AWS Solutions
 * rules on every synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addGuardStacks } from '../lib/fleet-app';

const app = new App();
addGuardStacks(app);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
