// Azure resource types that carry most of a typical bill: Linux VMs and managed disks, AKS (control plane tier and
// node pools), PostgreSQL flexible server, Cache for Redis, NAT gateway, Standard load balancer, Application Gateway
// v2, Standard public IPs; storage accounts and function apps are usage-priced.
import { type Attrs, NotPriced } from '../attrs.js';
import type { Meter, Pricer } from '../meter.js';

const TIER_SIZES = [32, 64, 128, 256, 512, 1024];
const TIER_PREFIX: Record<string, string> = { Premium_LRS: 'P', StandardSSD_LRS: 'E', Standard_LRS: 'S' };
const TIER_NUMBER: Record<number, number> = { 32: 4, 64: 6, 128: 10, 256: 15, 512: 20, 1024: 30 };

/** A managed disk is billed at the smallest tier that holds its size. */
function disk(m: Meter, name: string, accountType: string, sizeGb: number) {
  const prefix = TIER_PREFIX[accountType];
  if (!prefix)
    throw new NotPriced(
      `disk type ${accountType} is not in the table (Premium_LRS, StandardSSD_LRS, Standard_LRS are)`,
    );
  const tierSize = TIER_SIZES.find((s) => s >= sizeGb);
  if (!tierSize) throw new NotPriced(`disks over 1024 GB are not in the table`);
  const tier = `${prefix}${TIER_NUMBER[tierSize]}`;
  m.monthly(
    `${name} (${accountType} ${tier})`,
    1,
    'disk-month',
    'azure_disk_month',
    `${accountType}:${tier}:${tierSize}`,
  );
}

function osDisk(m: Meter, b: Attrs | undefined) {
  const type = b?.str('storage_account_type') ?? 'Premium_LRS';
  let size = b?.num('disk_size_gb');
  if (size === undefined) {
    size = 30;
    m.assume('OS disk: 30 GB (set by the image, known only after apply)');
  }
  disk(m, 'OS disk', type, size);
}

const linuxVm: Pricer = (m, a) => {
  const size = a.need('size');
  m.hourly(`VM (${a.label('size')}, Linux pay-as-you-go)`, 'azure_vm_hourly', size);
  osDisk(m, a.block('os_disk'));
};

const windowsVm: Pricer = () => {
  throw new NotPriced('Windows licence prices are not in the built-in table');
};

const legacyVm: Pricer = (m, a) => {
  const size = a.need('vm_size');
  if (a.block('os_profile_windows_config')) throw new NotPriced('Windows licence prices are not in the built-in table');
  m.hourly(`VM (${a.label('vm_size')}, Linux pay-as-you-go)`, 'azure_vm_hourly', size);
  const os = a.block('storage_os_disk');
  disk(m, 'OS disk', os?.str('managed_disk_type') ?? 'Standard_LRS', os?.num('disk_size_gb') ?? 30);
};

const managedDisk: Pricer = (m, a) => {
  const size = a.num('disk_size_gb');
  if (size === undefined) throw new NotPriced('disk_size_gb is not known');
  disk(m, 'Disk', a.need('storage_account_type'), size);
};

function nodePool(m: Meter, p: Attrs | undefined, label: string) {
  if (!p) throw new NotPriced('the node pool is not known');
  const size = p.need('vm_size');
  const n = p.num('node_count') ?? p.num('min_count');
  if (n === undefined) throw new NotPriced('node_count is not known');
  m.hourly(`${label} (${p.label('vm_size')} × ${n})`, 'azure_vm_hourly', size, n);
  const osGb = p.num('os_disk_size_gb') ?? 128;
  if (p.num('os_disk_size_gb') === undefined) m.assume(`${label}: 128 GB managed OS disks (the AKS default)`);
  if (p.str('os_disk_type') !== 'Ephemeral') {
    for (let i = 0; i < n; i++) disk(m, `${label} OS disk ${i + 1}`, 'Premium_LRS', osGb);
  }
}

const aks: Pricer = (m, a) => {
  if ((a.str('sku_tier') ?? 'Free') !== 'Free')
    m.hourly('Control plane (Standard tier)', 'azure_hourly', 'aks_standard');
  nodePool(m, a.block('default_node_pool'), 'Default node pool');
};

const aksNodePool: Pricer = (m, a) => nodePool(m, a, 'Node pool');

const postgresFlexible: Pricer = (m, a) => {
  const sku = a.need('sku_name');
  const ha = a.block('high_availability') !== undefined;
  m.hourly(`Compute (${a.label('sku_name')}${ha ? ', HA' : ''})`, 'azure_postgres_flexible_hourly', sku, ha ? 2 : 1);
  const mb = a.num('storage_mb') ?? 32768;
  if (a.num('storage_mb') === undefined) m.assume('storage: 32 GB (the default)');
  m.monthly('Storage', (mb / 1024) * (ha ? 2 : 1), 'GB-month', 'azure_usage', 'postgres_storage_gb');
};

const redis: Pricer = (m, a) => {
  const sku = a.need('sku_name');
  const family = a.need('family');
  const capacity = a.num('capacity');
  if (capacity === undefined) throw new NotPriced('capacity is not known');
  m.hourly(`Cache (${sku} ${family}${capacity})`, 'azure_redis_hourly', `${sku}:${family}${capacity}`);
};

const natGateway: Pricer = (m) => {
  m.hourly('NAT gateway', 'azure_hourly', 'nat_gateway');
  m.usagePart('Data processed', 'monthly_data_processed_gb', 'GB', 'azure_usage', 'nat_gb');
};

const lb: Pricer = (m, a) => {
  const sku = a.str('sku') ?? 'Basic';
  if (sku === 'Basic') {
    m.assume('Basic SKU: no charge (retired by Azure in 2025)');
    return;
  }
  if (sku !== 'Standard') throw new NotPriced(`load balancer sku ${sku} is not in the table`);
  m.hourly('Load balancer (Standard, first 5 rules)', 'azure_hourly', 'lb_standard');
  m.notEstimated.push('data processed');
};

const appGateway: Pricer = (m, a) => {
  const tier = a.block('sku')?.str('tier');
  const key = tier === 'Standard_v2' ? 'appgw_standard_v2' : tier === 'WAF_v2' ? 'appgw_waf_v2' : undefined;
  if (!key)
    throw new NotPriced(`application gateway tier ${tier ?? '(unset)'} is not in the table (Standard_v2, WAF_v2 are)`);
  m.hourly(`Application gateway (${tier}, fixed part)`, 'azure_hourly', key);
  m.notEstimated.push('capacity units');
};

const publicIp: Pricer = (m, a) => {
  if ((a.str('sku') ?? 'Standard') !== 'Standard') throw new NotPriced('only Standard public IPs are in the table');
  m.hourly('Public IP (Standard)', 'azure_hourly', 'public_ip_standard');
};

const storageAccount: Pricer = (m) => {
  m.usagePart('Blob storage (hot, LRS)', 'storage_gb', 'GB-month', 'azure_usage', 'storage_hot_lrs_gb');
};

const functionApp: Pricer = (m) => {
  m.usagePart('Executions', 'monthly_executions', '1M executions', 'azure_usage', 'functions_per_1m', 1 / 1e6);
};

export const AZURE_PRICERS: Readonly<Record<string, Pricer>> = {
  azurerm_linux_virtual_machine: linuxVm,
  azurerm_windows_virtual_machine: windowsVm,
  azurerm_virtual_machine: legacyVm,
  azurerm_managed_disk: managedDisk,
  azurerm_kubernetes_cluster: aks,
  azurerm_kubernetes_cluster_node_pool: aksNodePool,
  azurerm_postgresql_flexible_server: postgresFlexible,
  azurerm_redis_cache: redis,
  azurerm_nat_gateway: natGateway,
  azurerm_lb: lb,
  azurerm_application_gateway: appGateway,
  azurerm_public_ip: publicIp,
  azurerm_storage_account: storageAccount,
  azurerm_linux_function_app: functionApp,
  azurerm_function_app: functionApp,
};
