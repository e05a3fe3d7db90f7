# Azure Private DNS zone for kedge's domain, linked to a client VNet, with one wildcard A record for the
# private IP of the load balancer (or private endpoint) in front of kedge.
# Checked with: terraform is not installed here; checked by reading against the azurerm provider
# documentation for azurerm_private_dns_zone, _virtual_network_link and _a_record (provider v3).

variable "kedge_domain" {
  type    = string
  default = "kafka.example.com"
}
variable "resource_group_name" {
  type = string
}
variable "client_vnet_id" {
  type = string
}
variable "kedge_private_ip" {
  type        = string
  description = "kedge's address as reachable from the client VNet"
}

resource "azurerm_private_dns_zone" "kedge" {
  name                = var.kedge_domain
  resource_group_name = var.resource_group_name
}

resource "azurerm_private_dns_zone_virtual_network_link" "client" {
  name                  = "kedge-client"
  resource_group_name   = var.resource_group_name
  private_dns_zone_name = azurerm_private_dns_zone.kedge.name
  virtual_network_id    = var.client_vnet_id
  registration_enabled  = false
}

resource "azurerm_private_dns_a_record" "kedge_wildcard" {
  name                = "*"
  zone_name           = azurerm_private_dns_zone.kedge.name
  resource_group_name = var.resource_group_name
  ttl                 = 300
  records             = [var.kedge_private_ip]
}
