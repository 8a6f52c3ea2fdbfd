// AWS resource types that carry most of a typical bill: EC2 and EBS, RDS (PostgreSQL, MySQL, MariaDB) and its
// storage, ElastiCache, NAT gateways, load balancers, EKS, public IPv4, and the usage-priced S3, Lambda, DynamoDB
// on demand and CloudWatch Logs. Defaults the provider or AWS applies when an attribute is unset are stated as
// assumptions in the report.
import { type Attrs, NotPriced } from '../attrs.js';
import type { Meter, Pricer } from '../meter.js';

/** EBS storage (+ provisioned IOPS / gp3 extras) for a volume or a block device. */
function ebs(m: Meter, name: string, type: string, sizeGb: number, iops: number | undefined, throughput?: number) {
  m.monthly(`${name} (${type})`, sizeGb, 'GB-month', 'aws_ebs_gb_month', type);
  if ((type === 'io1' || type === 'io2') && iops)
    m.monthly(`${name} IOPS`, iops, 'IOPS-month', 'aws_ebs_extra', 'io_iops');
  if (type === 'gp3' && iops && iops > 3000)
    m.monthly(`${name} IOPS above 3000`, iops - 3000, 'IOPS-month', 'aws_ebs_extra', 'gp3_iops');
  if (type === 'gp3' && throughput && throughput > 125)
    m.monthly(`${name} throughput above 125 MB/s`, throughput - 125, 'MB/s-month', 'aws_ebs_extra', 'gp3_throughput');
}

function blockDevice(m: Meter, name: string, b: Attrs | undefined, defaultSize: number) {
  let size = b?.num('volume_size');
  let type = b?.isUnknown('volume_type') ? undefined : b?.str('volume_type');
  if (size === undefined || size === 0) {
    size = defaultSize;
    m.assume(`${name}: ${defaultSize} GB (the size is set by the image, known only after apply)`);
  }
  if (!type) {
    type = 'gp3';
    m.assume(`${name}: gp3 (the type is set by the image, known only after apply)`);
  }
  ebs(m, name, type, size, b?.num('iops'), b?.num('throughput'));
}

const instance: Pricer = (m, a) => {
  const type = a.need('instance_type');
  if (a.str('tenancy') === 'dedicated' || a.str('tenancy') === 'host')
    throw new NotPriced('dedicated tenancy is not in the table');
  m.hourly(`Instance (${a.label('instance_type')}, Linux on-demand)`, 'aws_ec2_hourly', type);
  blockDevice(m, 'Root volume', a.block('root_block_device'), 8);
  for (const [i, b] of a.blocks('ebs_block_device').entries()) blockDevice(m, `EBS device ${i + 1}`, b, 8);
};

const ebsVolume: Pricer = (m, a) => {
  const size = a.num('size');
  if (size === undefined)
    throw new NotPriced(a.isUnknown('size') ? 'size is known only after apply' : 'size is not set');
  let type = a.str('type');
  if (!type) {
    type = 'gp3';
    m.assume('type: gp3 (the provider default)');
  }
  ebs(m, 'Storage', type, size, a.num('iops'), a.num('throughput'));
};

const RDS_TABLES = {
  postgres: 'aws_rds_postgres_hourly',
  mysql: 'aws_rds_mysql_hourly',
  mariadb: 'aws_rds_mysql_hourly',
} as const;

const dbInstance: Pricer = (m, a) => {
  const engine = a.need('engine');
  const table = RDS_TABLES[engine as keyof typeof RDS_TABLES];
  if (!table) throw new NotPriced(`engine ${engine} is not in the built-in table (postgres, mysql, mariadb are)`);
  const cls = a.need('instance_class');
  const multiAz = a.bool('multi_az') === true;
  const n = multiAz ? 2 : 1;
  m.hourly(`Database instance (${a.label('instance_class')}, ${engine}${multiAz ? ', Multi-AZ' : ''})`, table, cls, n);
  const size = a.num('allocated_storage');
  if (size === undefined) {
    if (a.isUnknown('allocated_storage')) throw new NotPriced('allocated_storage is known only after apply');
    if (a.str('replicate_source_db')) return m.assume('storage: priced on the source database');
    throw new NotPriced('allocated_storage is not set');
  }
  let storage = a.str('storage_type');
  if (!storage) {
    storage = a.num('iops') ? 'io1' : 'gp2';
    m.assume(`storage type: ${storage} (the RDS default)`);
  }
  if (storage === 'io2') storage = 'io1';
  m.monthly(
    `Storage (${storage}${multiAz ? ', Multi-AZ' : ''})`,
    size * n,
    'GB-month',
    'aws_rds_storage_gb_month',
    storage,
  );
  const iops = a.num('iops');
  if (storage === 'io1' && iops)
    m.monthly('Provisioned IOPS', iops * n, 'IOPS-month', 'aws_rds_storage_gb_month', 'io1_iops');
};

const elasticacheCluster: Pricer = (m, a) => {
  const node = a.need('node_type');
  const n = a.num('num_cache_nodes') ?? 1;
  m.hourly(`Cache nodes (${a.label('node_type')} × ${n})`, 'aws_elasticache_hourly', node, n);
};

const elasticacheReplicationGroup: Pricer = (m, a) => {
  const node = a.need('node_type');
  const groups = a.num('num_node_groups');
  const replicas = a.num('replicas_per_node_group');
  const n = a.num('num_cache_clusters') ?? (groups !== undefined ? groups * ((replicas ?? 0) + 1) : undefined);
  if (n === undefined) throw new NotPriced('the number of nodes (num_cache_clusters) is known only after apply');
  m.hourly(`Cache nodes (${a.label('node_type')} × ${n})`, 'aws_elasticache_hourly', node, n);
};

const natGateway: Pricer = (m) => {
  m.hourly('NAT gateway', 'aws_network_hourly', 'nat_gateway');
  m.usagePart('Data processed', 'monthly_data_processed_gb', 'GB', 'aws_usage', 'nat_gb');
};

const loadBalancer: Pricer = (m, a) => {
  const kind = a.str('load_balancer_type') ?? 'application';
  const key = kind === 'application' ? 'alb' : kind === 'network' ? 'nlb' : kind === 'gateway' ? 'gwlb' : undefined;
  if (!key) throw new NotPriced(`load_balancer_type ${kind} is not in the table`);
  m.hourly(`Load balancer (${kind})`, 'aws_network_hourly', key);
  m.notEstimated.push(`${kind === 'application' ? 'LCU' : 'NLCU/GLCU'} hours`);
};

const classicElb: Pricer = (m) => {
  m.hourly('Classic load balancer', 'aws_network_hourly', 'elb_classic');
  m.notEstimated.push('data processed');
};

const eksCluster: Pricer = (m) => m.hourly('EKS control plane', 'aws_network_hourly', 'eks_cluster');

const eksNodeGroup: Pricer = (m, a) => {
  const scaling = a.block('scaling_config');
  const n = scaling?.num('desired_size');
  if (n === undefined) throw new NotPriced('scaling_config.desired_size is not known');
  const types = a.strings('instance_types');
  const type = types[0] ?? 't3.medium';
  if (types.length === 0) m.assume('instance type: t3.medium (the EKS default)');
  m.hourly(`Nodes (${type} × ${n})`, 'aws_ec2_hourly', type, n);
  const disk = a.num('disk_size') ?? 20;
  if (a.num('disk_size') === undefined) m.assume('node disk: 20 GB gp2 (the EKS default)');
  m.monthly(`Node disks (gp2, ${n} × ${disk} GB)`, disk * n, 'GB-month', 'aws_ebs_gb_month', 'gp2');
};

const eip: Pricer = (m) => m.hourly('Public IPv4 address', 'aws_network_hourly', 'public_ipv4');

const s3Bucket: Pricer = (m) => {
  m.usagePart('Standard storage', 'standard.storage_gb', 'GB-month', 'aws_usage', 's3_standard_gb');
  m.usagePart(
    'PUT/COPY/POST/LIST requests',
    'standard.monthly_tier_1_requests',
    '1k requests',
    'aws_usage',
    's3_tier1_per_1k',
    1 / 1000,
  );
  m.usagePart(
    'GET and other requests',
    'standard.monthly_tier_2_requests',
    '1k requests',
    'aws_usage',
    's3_tier2_per_1k',
    1 / 1000,
  );
};

const lambda: Pricer = (m, a) => {
  m.usagePart('Requests', 'monthly_requests', '1M requests', 'aws_usage', 'lambda_requests_per_1m', 1 / 1e6);
  m.usageParts += 1;
  const requests = m.usage('monthly_requests');
  const duration = m.usage('request_duration_ms');
  if (requests === undefined || duration === undefined) {
    m.notEstimated.push('Duration (GB-seconds)');
    return;
  }
  m.usageGiven += 1;
  const memory = a.num('memory_size') ?? 128;
  const gbSeconds = requests * (duration / 1000) * (memory / 1024);
  m.monthly(`Duration (${memory} MB)`, gbSeconds, 'GB-seconds', 'aws_usage', 'lambda_gb_second');
};

const dynamodb: Pricer = (m, a) => {
  if (a.str('billing_mode') === 'PROVISIONED') {
    const w = a.num('write_capacity') ?? 0;
    const r = a.num('read_capacity') ?? 0;
    m.add('Write capacity', w * m.table.hoursPerMonth, 'WCU-hours', m.price('aws_usage', 'dynamodb_wcu_hour'));
    m.add('Read capacity', r * m.table.hoursPerMonth, 'RCU-hours', m.price('aws_usage', 'dynamodb_rcu_hour'));
  } else {
    m.usagePart(
      'Write requests',
      'monthly_write_request_units',
      '1M WRU',
      'aws_usage',
      'dynamodb_write_per_1m',
      1 / 1e6,
    );
    m.usagePart('Read requests', 'monthly_read_request_units', '1M RRU', 'aws_usage', 'dynamodb_read_per_1m', 1 / 1e6);
  }
  m.usagePart('Storage', 'storage_gb', 'GB-month', 'aws_usage', 'dynamodb_storage_gb');
};

const logGroup: Pricer = (m) => {
  m.usagePart('Data ingested', 'monthly_data_ingested_gb', 'GB', 'aws_usage', 'logs_ingest_gb');
  m.usagePart('Storage', 'storage_gb', 'GB-month', 'aws_usage', 'logs_storage_gb');
};

const kmsKey: Pricer = (m) => m.monthly('Customer managed key', 1, 'key-month', 'aws_usage', 'kms_key_month');
const secret: Pricer = (m) => m.monthly('Secret', 1, 'secret-month', 'aws_usage', 'secret_month');

export const AWS_PRICERS: Readonly<Record<string, Pricer>> = {
  aws_instance: instance,
  aws_ebs_volume: ebsVolume,
  aws_db_instance: dbInstance,
  aws_elasticache_cluster: elasticacheCluster,
  aws_elasticache_replication_group: elasticacheReplicationGroup,
  aws_nat_gateway: natGateway,
  aws_lb: loadBalancer,
  aws_alb: loadBalancer,
  aws_elb: classicElb,
  aws_eks_cluster: eksCluster,
  aws_eks_node_group: eksNodeGroup,
  aws_eip: eip,
  aws_s3_bucket: s3Bucket,
  aws_lambda_function: lambda,
  aws_dynamodb_table: dynamodb,
  aws_cloudwatch_log_group: logGroup,
  aws_kms_key: kmsKey,
  aws_secretsmanager_secret: secret,
};
