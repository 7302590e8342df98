# The transform's execution role moved from modules/iam to modules/lambda (iam.tf), where the function that uses it
# lives. These blocks carry an existing deployment's role and policies over in place (same names, nothing replaced).

moved {
  from = module.iam.aws_iam_role.transform
  to   = module.lambda.aws_iam_role.execution
}

moved {
  from = module.iam.aws_iam_role_policy.transform_logs
  to   = module.lambda.aws_iam_role_policy.logs
}

moved {
  from = module.iam.aws_iam_role_policy.transform_comprehend
  to   = module.lambda.aws_iam_role_policy.comprehend
}
