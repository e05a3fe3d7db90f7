# AWS Route 53 private hosted zone for kedge's domain, attached to a client VPC, with one wildcard alias
# record pointing at the kedge Network Load Balancer. One zone per client network (or share it across VPCs
# with more vpc blocks when they all reach the same NLB address).
# Checked with: terraform is not installed here; checked by reading against the AWS provider documentation
# for aws_route53_zone / aws_route53_record (provider v5). Run `terraform validate` in your module.

variable "kedge_domain" {
  type    = string
  default = "kafka.example.com"
}
variable "client_vpc_id" {
  type = string
}
variable "kedge_nlb_dns_name" {
  type        = string
  description = "DNS name of the NLB in front of kedge (kubectl get svc kedge -o jsonpath='{.status.loadBalancer.ingress[0].hostname}')"
}
variable "kedge_nlb_zone_id" {
  type        = string
  description = "Canonical hosted zone id of that NLB (aws elbv2 describe-load-balancers)"
}

resource "aws_route53_zone" "kedge" {
  name    = var.kedge_domain
  comment = "kedge: Kafka through one TLS port"
  vpc {
    vpc_id = var.client_vpc_id
  }
}

resource "aws_route53_record" "kedge_wildcard" {
  zone_id = aws_route53_zone.kedge.zone_id
  name    = "*.${var.kedge_domain}"
  type    = "A"
  alias {
    name                   = var.kedge_nlb_dns_name
    zone_id                = var.kedge_nlb_zone_id
    evaluate_target_health = true
  }
}
