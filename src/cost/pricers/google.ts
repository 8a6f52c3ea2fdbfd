// Google Cloud resource types that carry most of a typical bill: Compute Engine instances and persistent disks,
// Cloud SQL, Memorystore for Redis, GKE (cluster fee and node pools), Cloud NAT, forwarding rules; Cloud Storage and
// Cloud Functions are usage-priced.
import { NotPriced } from '../attrs.js';
import type { Meter, Pricer } from '../meter.js';

function pd(m: Meter, name: string, type: string, sizeGb: number) {
  m.monthly(`${name} (${type})`, sizeGb, 'GB-month', 'google_disk_gb_month', type);
}

function machine(m: Meter, type: string, label: string, count = 1) {
  if (type.startsWith('custom-') || type.includes('-custom-'))
    throw new NotPriced(`custom machine type ${type} is not in the table`);
  m.hourly(`${label} (${type}${count > 1 ? ` × ${count}` : ''})`, 'google_compute_hourly', type, count);
}

const instance: Pricer = (m, a) => {
  const type = a.need('machine_type');
  machine(m, type, 'Instance');
  const init = a.block('boot_disk')?.block('initialize_params');
  const size = init?.num('size') ?? 10;
  const dtype = init?.str('type') ?? 'pd-standard';
  if (init?.num('size') === undefined) m.assume('boot disk: 10 GB (the image default)');
  if (!init?.str('type')) m.assume('boot disk type: pd-standard (the default)');
  pd(m, 'Boot disk', dtype, size);
};

const disk: Pricer = (m, a) => {
  const size = a.num('size');
  if (size === undefined) throw new NotPriced('size is not known (set size, or it comes from the image after apply)');
  pd(m, 'Disk', a.str('type') ?? 'pd-standard', size);
};

const sql: Pricer = (m, a) => {
  const settings = a.block('settings');
  if (!settings) throw new NotPriced('settings are not known');
  const tier = settings.need('tier');
  const ha = settings.str('availability_type') === 'REGIONAL';
  const n = ha ? 2 : 1;
  const version = a.str('database_version') ?? '';
  if (version.startsWith('SQLSERVER')) throw new NotPriced('SQL Server licence prices are not in the table');
  const custom = /^db-custom-(\d+)-(\d+)$/.exec(tier);
  if (custom) {
    const vcpus = Number(custom[1]);
    const memGb = Number(custom[2]) / 1024;
    m.add(
      `vCPUs (${vcpus}${ha ? ', HA' : ''})`,
      vcpus * m.table.hoursPerMonth * n,
      'vCPU-hours',
      m.price('google_sql', 'vcpu_hour'),
    );
    m.add(
      `Memory (${memGb} GB${ha ? ', HA' : ''})`,
      memGb * m.table.hoursPerMonth * n,
      'GB-hours',
      m.price('google_sql', 'memory_gb_hour'),
    );
  } else {
    m.hourly(`Instance (${tier}${ha ? ', HA' : ''})`, 'google_sql', tier, n);
  }
  const size = settings.num('disk_size') ?? 10;
  if (settings.num('disk_size') === undefined) m.assume('storage: 10 GB (the default)');
  const ssd = (settings.str('disk_type') ?? 'PD_SSD') === 'PD_SSD';
  m.monthly(
    `Storage (${ssd ? 'SSD' : 'HDD'})`,
    size * n,
    'GB-month',
    'google_sql',
    ssd ? 'ssd_gb_month' : 'hdd_gb_month',
  );
};

const redis: Pricer = (m, a) => {
  const gb = a.num('memory_size_gb');
  if (gb === undefined) throw new NotPriced('memory_size_gb is not known');
  const tier = (a.str('tier') ?? 'BASIC') === 'STANDARD_HA' ? 'standard' : 'basic';
  const band = gb <= 4 ? 'm1' : gb <= 10 ? 'm2' : undefined;
  if (!band) throw new NotPriced('Memorystore instances over 10 GB are not in the table');
  m.add(
    `Memory (${tier}, ${gb} GB)`,
    gb * m.table.hoursPerMonth,
    'GB-hours',
    m.price('google_hourly', `redis_${tier}_${band}_gb`),
  );
};

const gke: Pricer = (m, a) => {
  m.hourly('Cluster management fee', 'google_hourly', 'gke_cluster');
  m.assume('the GKE free tier credit (one zonal or Autopilot cluster per billing account) is not applied');
  if (a.bool('enable_autopilot')) m.notEstimated.push('Autopilot pod resources');
  else if (a.bool('remove_default_node_pool') !== true) {
    const n = a.num('initial_node_count') ?? 3;
    const type = a.block('node_config')?.str('machine_type') ?? 'e2-medium';
    machine(m, type, 'Default node pool', n);
  }
};

const nodePool: Pricer = (m, a) => {
  const n = a.num('node_count') ?? a.num('initial_node_count');
  if (n === undefined) throw new NotPriced('node_count is not known');
  const cfg = a.block('node_config');
  const type = cfg?.str('machine_type') ?? 'e2-medium';
  if (!cfg?.str('machine_type')) m.assume('machine type: e2-medium (the GKE default)');
  machine(m, type, 'Nodes', n);
  const size = cfg?.num('disk_size_gb') ?? 100;
  pd(m, `Node disks (${n} × ${size} GB)`, cfg?.str('disk_type') ?? 'pd-balanced', size * n);
};

const routerNat: Pricer = (m) => {
  m.usageParts += 1;
  const vms = m.usage('assigned_vms');
  if (vms === undefined) m.notEstimated.push('gateway (per assigned VM)');
  else {
    m.usageGiven += 1;
    m.add(
      `Gateway (${Math.min(vms, 32)} VMs)`,
      Math.min(vms, 32) * m.table.hoursPerMonth,
      'VM-hours',
      m.price('google_hourly', 'nat_vm'),
    );
  }
  m.usagePart('Data processed', 'monthly_data_processed_gb', 'GB', 'google_usage', 'nat_gb');
};

const forwardingRule: Pricer = (m) => {
  m.hourly('Forwarding rule', 'google_hourly', 'forwarding_rule');
  m.usagePart('Data processed', 'monthly_data_processed_gb', 'GB', 'google_usage', 'lb_gb');
};

const bucket: Pricer = (m) =>
  m.usagePart('Standard storage', 'storage_gb', 'GB-month', 'google_usage', 'storage_standard_gb');
const fn: Pricer = (m) =>
  m.usagePart(
    'Invocations',
    'monthly_function_invocations',
    '1M invocations',
    'google_usage',
    'functions_per_1m',
    1 / 1e6,
  );

export const GOOGLE_PRICERS: Readonly<Record<string, Pricer>> = {
  google_compute_instance: instance,
  google_compute_disk: disk,
  google_sql_database_instance: sql,
  google_redis_instance: redis,
  google_container_cluster: gke,
  google_container_node_pool: nodePool,
  google_compute_router_nat: routerNat,
  google_compute_forwarding_rule: forwardingRule,
  google_compute_global_forwarding_rule: forwardingRule,
  google_storage_bucket: bucket,
  google_cloudfunctions_function: fn,
  google_cloudfunctions2_function: fn,
};
