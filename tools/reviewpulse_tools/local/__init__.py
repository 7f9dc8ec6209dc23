"""The local stack: the whole suite on one machine, no AWS account, no container runtime.

stack.py       start, stop and find a running stack; moto's server (a process of its own) as the AWS endpoint
template.py    template.yaml as plain CloudFormation (SAM expanded), intrinsics resolved
provision.py   tables, queues, bucket and notifications created from the template
lambda_.py     Lambda: running handlers in-process or in execution environments (processes) per function
lambda_environment.py  inside one execution environment: start, invoke, CPU/RSS/AWS calls; the context object
sqs.py         SQS event source mappings: the event shape and the queue pollers
scheduler.py   EventBridge Scheduler: the template's rate() schedules
apigateway.py  API Gateway: routes, the REQUEST authorizer, compression, HTTP on localhost
usage_plan.py  API Gateway's usage plan: the per-key throttle and quota
s3.py          S3's presigned-POST policy check, which moto does not make
dynamodb.py    DynamoDB's item answers written as JSON directly in the AWS process (moto's serializer was slow)
"""
