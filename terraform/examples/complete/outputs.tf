output "pipeline" {
  description = "Every output of the stack, by name (terraform output -json pipeline); the root module's README lists them."
  value       = module.pipeline
}
