/**
 * Deleting the stack removes the notifications the guard created: a custom resource whose
 * handler is the guard function, deleted after everything that could wire again.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { SERVICE_A, SERVICE_B, synthStack, type Json } from './helpers';

describe('the notification cleanup resource', () => {
  const { stack, guard, template } = synthStack({
    'vpce-guard:protectedServiceIds': [SERVICE_A, SERVICE_B],
  });
  const resolve = (value: unknown) => stack.resolve(value);
  const resources = template.toJSON().Resources as Record<string, Json>;
  const [cleanupId, cleanup] = Object.entries(resources).find(
    ([, r]) => r.Type === 'Custom::VpceGuardNotificationCleanup',
  )!;
  const dependsOn = (id: string) => [resources[id].DependsOn ?? []].flat();
  const idsOf = (type: string) => Object.keys(template.findResources(type));

  test('is one resource, served by a Provider framework function that invokes the guard function', () => {
    template.resourceCountIs('Custom::VpceGuardNotificationCleanup', 1);
    const token = cleanup.Properties.ServiceToken['Fn::GetAtt'][0];
    expect(resources[token]).toMatchObject({
      Type: 'AWS::Lambda::Function',
      Properties: {
        Environment: {
          Variables: { USER_ON_EVENT_FUNCTION_ARN: resolve(guard.guardFunction.functionArn) },
        },
      },
    });
    // The framework may invoke the guard function (and its versions), nothing else.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: [
              resolve(guard.guardFunction.functionArn),
              { 'Fn::Join': ['', [resolve(guard.guardFunction.functionArn), ':*']] },
            ],
          },
        ]),
      },
    });
  });

  test('passes no configuration: the guard takes its topic from its own environment', () => {
    expect(Object.keys(cleanup.Properties)).toEqual(['ServiceToken']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          NOTIFICATION_TOPIC_ARN: resolve(guard.notificationTopic.topicArn),
        }),
      },
    });
  });

  test("runs after the rules, the event sources and the stack's own notifications are deleted", () => {
    const deletedFirst = [
      ...idsOf('AWS::Events::Rule'),
      ...idsOf('AWS::Lambda::EventSourceMapping'),
      ...idsOf('AWS::EC2::VPCEndpointConnectionNotification'),
    ];
    expect(deletedFirst).toHaveLength(4 + 2 + 2);
    for (const id of deletedFirst) expect(dependsOn(id)).toContain(cleanupId);
  });

  test('runs before the topic and the guard function are deleted', () => {
    const topicId = stack.getLogicalId(guard.notificationTopic.node.defaultChild as never);
    expect(dependsOn(cleanupId)).toContain(topicId);
    // The guard function: CloudFormation deletes the cleanup before the framework function
    // its ServiceToken names, and that function before the guard function its environment
    // names (a reference is a dependency).
    const framework = cleanup.Properties.ServiceToken['Fn::GetAtt'];
    expect(framework[1]).toBe('Arn');
    expect(JSON.stringify(resources[framework[0]].Properties.Environment)).toContain(
      stack.getLogicalId(guard.guardFunction.node.defaultChild as never),
    );
  });
});
