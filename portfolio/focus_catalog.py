"""The synthetic organisation's price list: billing accounts and the line items they bill.

Used by :mod:`portfolio.focus_generator`. Prices are integers in micro-units (1e-6) of the
billing currency per pricing unit and quantities are integers in milli-units (1e-3), so every
cost is an exact integer number of nano-units (1e-9) and ``ListCost = ListUnitPrice x
PricingQuantity`` holds digit for digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CLOUD = "cloud"
AI = "ai"
SAAS = "saas"
LICENSING = "licensing"
DATA_CENTER = "data_center"
GROUPS = (CLOUD, AI, SAAS, LICENSING, DATA_CENTER)

# How a line item's volume moves over the months.
STEADY = "steady"
GROWTH = "growth"
AI_RAMP = "ai_ramp"
DECLINE = "decline"

# (team, product, cost center) owners that resources are tagged with.
TEAMS = {
    "assistant": ("ai-assistant", "assistant", "cc-4100"),
    "search": ("search", "semantic-search", "cc-4200"),
    "payments": ("payments", "checkout", "cc-2100"),
    "web": ("web", "storefront", "cc-2200"),
    "data": ("data-platform", "analytics", "cc-3100"),
    "platform": ("platform", "shared-platform", "cc-1000"),
    "sales": ("sales-ops", "crm", "cc-5100"),
    "corp": ("corporate-it", "workplace", "cc-1100"),
    "eng": ("engineering", "developer-tools", "cc-1200"),
}


@dataclass(frozen=True)
class Account:
    """A billing account of one provider, with its sub-accounts and regions."""

    key: str
    provider: str
    publisher: str
    issuer: str
    billing_account_id: str
    name: str
    account_type: str
    sub_account_type: str | None
    sub_accounts: tuple[tuple[str, str], ...]
    regions: tuple[tuple[str, str], ...]
    currency: str = "USD"
    tax_rate_bp: int = 0
    invoice_code: str = ""


@dataclass(frozen=True)
class LineItem:
    """One SKU an account bills, with its price, spend and the teams whose resources use it.

    ``monthly_spend`` is the SKU's spend in whole currency units in the first month; its trend
    moves it from there. ``weight`` sets its share of the file's rows, so a larger file splits
    the same spend into finer rows instead of describing a bigger organisation.
    """

    key: str
    account: str
    group: str
    service_name: str
    service_category: str
    service_subcategory: str
    description: str
    pricing_unit: str
    list_price_micro: int
    monthly_spend: int
    weight: float
    teams: tuple[str, ...]
    charge_category: str = "Usage"
    frequency: str = "Usage-Based"
    monthly: bool = False
    consumed_unit: str | None = None
    consumed_per_pricing: int = 1
    discount_pct: int = 0
    sigma: float = 0.6
    sku_meter: str = ""
    price_details: str | None = None
    resource_type: str | None = None
    resource_prefix: str | None = None
    # Distinct resources; for monthly items also the most rows a month has (one per line).
    n_resources: int = 200
    trend: str = GROWTH
    commitment: str | None = None
    untagged_pct: int = 8


@dataclass(frozen=True)
class CommitmentPlan:
    """A spend-based commitment discount: a monthly fee that covers eligible usage at a rate."""

    key: str
    account: str
    discount_id: str
    name: str
    discount_type: str
    rate_pct: int
    sizing_pct: int
    first_month: int
    description: str
    tags: str = field(default='{"team":"platform","env":"prod","cost-center":"cc-1000"}')


# The tables below are data, kept one entry per block for reading rather than one value a line.
# fmt: off
_AWS_REGIONS = (
    ("us-east-1", "US East (N. Virginia)"),
    ("us-west-2", "US West (Oregon)"),
    ("eu-west-1", "Europe (Ireland)"),
)
_AZURE_REGIONS = (("eastus", "East US"), ("westeurope", "West Europe"))
_GCP_REGIONS = (("us-central1", "Iowa"), ("europe-west1", "Belgium"))
_DC_REGIONS = (("equinix-dc6", "Ashburn DC6"), ("equinix-fr5", "Frankfurt FR5"))

ACCOUNTS: tuple[Account, ...] = (
    Account(
        "aws", "AWS", "Amazon Web Services", "Amazon Web Services, Inc.", "123456789012",
        "ExampleCorp AWS Organization", "Management Account", "Linked Account",
        (
            ("210987654321", "prod-assistant"),
            ("310987654321", "prod-commerce"),
            ("410987654321", "data-platform"),
            ("510987654321", "shared-services"),
            ("610987654321", "dev-sandbox"),
        ),
        _AWS_REGIONS, invoice_code="AWS",
    ),
    Account(
        "azure", "Microsoft Azure", "Microsoft", "Microsoft Azure",
        "8a1b2c3d-0000-4a00-9000-000000000001", "ExampleCorp MCA", "Microsoft Customer Agreement",
        "Subscription",
        (
            ("11111111-1111-4111-8111-111111111111", "prod-crm-integration"),
            ("22222222-2222-4222-8222-222222222222", "analytics"),
            ("33333333-3333-4333-8333-333333333333", "shared-platform"),
        ),
        _AZURE_REGIONS, invoice_code="AZ",
    ),
    Account(
        "gcp", "Google Cloud", "Google", "Google Cloud", "01A2B3-C4D5E6-F70819",
        "ExampleCorp GCP Billing", "Billing Account", "Project",
        (
            ("ec-analytics-prod", "ec-analytics-prod"),
            ("ec-ml-prod", "ec-ml-prod"),
            ("ec-web-prod", "ec-web-prod"),
        ),
        _GCP_REGIONS, invoice_code="GCP",
    ),
    Account(
        "openai", "OpenAI", "OpenAI", "OpenAI, L.L.C.", "org-examplecorp", "ExampleCorp",
        "Organization", "Project",
        (
            ("proj_assistant", "Customer assistant"),
            ("proj_search", "Semantic search"),
            ("proj_internal", "Internal copilots"),
        ),
        (), invoice_code="OAI",
    ),
    Account(
        "anthropic", "Anthropic", "Anthropic", "Anthropic, PBC", "anthropic-org-4471",
        "ExampleCorp", "Organization", "Workspace",
        (("wrkspc_assistant", "assistant-prod"), ("wrkspc_eng", "engineering-tools")),
        (), invoice_code="ANT",
    ),
    Account(
        "salesforce", "Salesforce", "Salesforce", "Salesforce, Inc.", "00D5e000000ExCo",
        "ExampleCorp Org", "Org", None, (), (), tax_rate_bp=725, invoice_code="SF",
    ),
    Account(
        "slack", "Slack", "Salesforce", "Slack Technologies, LLC", "T01EXAMPLE",
        "ExampleCorp Workspace", "Enterprise Grid", None, (), (), invoice_code="SLK",
    ),
    Account(
        "atlassian", "Atlassian", "Atlassian", "Atlassian Pty Ltd", "atl-examplecorp",
        "examplecorp.atlassian.net", "Cloud Site", None, (), (), invoice_code="ATL",
    ),
    Account(
        "github", "GitHub", "GitHub", "GitHub, Inc.", "ent-examplecorp",
        "ExampleCorp Enterprise", "Enterprise", None, (), (), invoice_code="GH",
    ),
    Account(
        "oracle_lic", "Oracle Licensing", "Oracle", "Oracle America, Inc.", "CSI-20458813",
        "ExampleCorp Oracle Support", "Customer Support Identifier", None, (), (),
        invoice_code="ORA",
    ),
    Account(
        "ms_lic", "Microsoft Licensing", "Microsoft", "SoftwareONE, Inc.", "EA-81203344",
        "ExampleCorp Enterprise Agreement", "Enterprise Agreement", None, (), (),
        invoice_code="MSEA",
    ),
    Account(
        "equinix", "Equinix", "Equinix", "Equinix, Inc.", "EQX-100482", "ExampleCorp Colocation",
        "Customer Account", "Cage",
        (("DC6:01:004512", "Ashburn cage 4512"), ("FR5:02:000871", "Frankfurt cage 871")),
        _DC_REGIONS, tax_rate_bp=600, invoice_code="EQX",
    ),
    Account(
        "onprem", "ExampleCorp Data Center", "Dell Technologies", "ExampleCorp Finance",
        "DC-FIXED-ASSETS", "Data center fixed assets", "Internal", "Site",
        (("site-ash", "Ashburn"), ("site-fra", "Frankfurt")),
        _DC_REGIONS, invoice_code="DCFA",
    ),
)

EUR_ACCOUNT = Account(
    "azure_eu", "Microsoft Azure", "Microsoft", "Microsoft Ireland Operations Ltd",
    "8a1b2c3d-0000-4a00-9000-0000000000e1", "ExampleCorp Europe MCA",
    "Microsoft Customer Agreement", "Subscription",
    (("44444444-4444-4444-8444-444444444444", "eu-commerce"),),
    (("westeurope", "West Europe"), ("germanywestcentral", "Germany West Central")),
    currency="EUR", invoice_code="AZEU",
)


def _vm(instance: str, cores: int, memory: int) -> str:
    return (
        f'{{"InstanceType":"{instance}","CoreCount":{cores},"MemorySize":{memory},'
        '"OperatingSystem":"Linux"}'
    )


def _model(model: str, direction: str) -> str:
    return f'{{"x_Model":"{model}","x_TokenDirection":"{direction}"}}'


_WEB = ("web", "payments", "platform", "assistant", "search")
_DATA = ("data", "search", "assistant")

LINE_ITEMS: tuple[LineItem, ...] = (
    # Public cloud: AWS
    LineItem(
        "aws_ec2", "aws", CLOUD, "Amazon Elastic Compute Cloud", "Compute", "Virtual Machines",
        "m6i.xlarge Linux instance hours", "Hours", 192_000, 300_000, 14.0, _WEB,
        consumed_unit="Hours", discount_pct=8, sku_meter="BoxUsage:m6i.xlarge",
        price_details=_vm("m6i.xlarge", 4, 16), resource_type="Instance",
        resource_prefix="arn:aws:ec2::123456789012:instance/i-0", n_resources=600,
        commitment="aws_sp",
    ),
    LineItem(
        "aws_ec2_gpu", "aws", CLOUD, "Amazon Elastic Compute Cloud", "Compute",
        "Virtual Machines", "g5.2xlarge GPU instance hours", "Hours", 1_212_000, 15_000, 2.0,
        ("assistant", "search"), consumed_unit="Hours", discount_pct=8,
        sku_meter="BoxUsage:g5.2xlarge", price_details=_vm("g5.2xlarge", 8, 32),
        resource_type="Instance", resource_prefix="arn:aws:ec2::123456789012:instance/i-1",
        n_resources=60, trend=AI_RAMP,
    ),
    LineItem(
        "aws_eks", "aws", CLOUD, "Amazon Elastic Kubernetes Service", "Compute", "Containers",
        "EKS cluster hours", "Hours", 100_000, 15_000, 2.0, _WEB, consumed_unit="Hours",
        discount_pct=8, sku_meter="AmazonEKS-Hours:perCluster", resource_type="Cluster",
        resource_prefix="arn:aws:eks::123456789012:cluster/eks-", n_resources=12, sigma=0.05,
        trend=STEADY,
    ),
    LineItem(
        "aws_lambda", "aws", CLOUD, "AWS Lambda", "Compute", "Serverless Compute",
        "Lambda requests", "1M Requests", 200_000, 25_000, 3.0, _WEB, consumed_unit="Requests",
        consumed_per_pricing=1_000_000, discount_pct=8, sku_meter="Request",
        resource_type="Function", resource_prefix="arn:aws:lambda::123456789012:function:fn-",
        n_resources=300,
    ),
    LineItem(
        "aws_s3", "aws", CLOUD, "Amazon Simple Storage Service", "Storage", "Object Storage",
        "S3 Standard storage", "GB-Months", 23_000, 80_000, 8.0, (*_DATA, "web", "platform"),
        consumed_unit="GB-Months", discount_pct=8, sku_meter="TimedStorage-ByteHrs",
        price_details='{"StorageClass":"Standard","Redundancy":"Regional"}',
        resource_type="Bucket", resource_prefix="arn:aws:s3:::examplecorp-bucket-",
        n_resources=400,
    ),
    LineItem(
        "aws_rds", "aws", CLOUD, "Amazon Relational Database Service", "Databases",
        "Relational Databases", "db.r6g.xlarge PostgreSQL instance hours", "Hours", 480_000,
        120_000, 5.0, ("payments", "web", "data"), consumed_unit="Hours", discount_pct=8,
        sku_meter="InstanceUsage:db.r6g.xlarge", price_details=_vm("db.r6g.xlarge", 4, 32),
        resource_type="DBInstance", resource_prefix="arn:aws:rds::123456789012:db:pg-",
        n_resources=80, sigma=0.1, trend=STEADY,
    ),
    LineItem(
        "aws_dynamodb", "aws", CLOUD, "Amazon DynamoDB", "Databases", "NoSQL Databases",
        "DynamoDB on-demand write request units", "1M Write Request Units", 1_250_000, 30_000,
        2.0, ("payments", "web"), consumed_unit="Write Request Units",
        consumed_per_pricing=1_000_000, discount_pct=8, sku_meter="WriteRequestUnits",
        resource_type="Table", resource_prefix="arn:aws:dynamodb::123456789012:table/t-",
        n_resources=90,
    ),
    LineItem(
        "aws_cloudfront", "aws", CLOUD, "Amazon CloudFront", "Networking", "Content Delivery",
        "CloudFront data transfer out", "GB", 85_000, 40_000, 3.0, ("web", "payments"),
        consumed_unit="GB", discount_pct=8, sku_meter="DataTransfer-Out-Bytes",
        resource_type="Distribution",
        resource_prefix="arn:aws:cloudfront::123456789012:distribution/E", n_resources=20,
    ),
    LineItem(
        "aws_transfer", "aws", CLOUD, "AWS Data Transfer", "Networking", "Network Connectivity",
        "Inter-region data transfer", "GB", 20_000, 35_000, 3.0, _WEB, consumed_unit="GB",
        discount_pct=8, sku_meter="DataTransfer-Regional-Bytes", untagged_pct=60,
    ),
    LineItem(
        "aws_bedrock", "aws", AI, "Amazon Bedrock", "AI and Machine Learning", "Generative AI",
        "Claude Sonnet on Bedrock input tokens", "1M Tokens", 3_000_000, 25_000, 3.0,
        ("assistant", "search"), consumed_unit="Tokens", consumed_per_pricing=1_000_000,
        sku_meter="InputTokenCount", price_details=_model("claude-sonnet", "input"),
        resource_type="Model", resource_prefix="arn:aws:bedrock:::foundation-model/m-",
        n_resources=6, trend=AI_RAMP,
    ),
    LineItem(
        "aws_sagemaker", "aws", AI, "Amazon SageMaker", "AI and Machine Learning",
        "Machine Learning", "ml.g5.xlarge inference endpoint hours", "Hours", 1_408_000, 20_000,
        2.0, ("assistant", "search"), consumed_unit="Hours", sku_meter="Hosting:ml.g5.xlarge",
        resource_type="Endpoint", resource_prefix="arn:aws:sagemaker::123456789012:endpoint/ep-",
        n_resources=15, trend=AI_RAMP, sigma=0.2,
    ),
    # Public cloud: Azure
    LineItem(
        "az_vm", "azure", CLOUD, "Virtual Machines", "Compute", "Virtual Machines",
        "D4s v5 Linux virtual machine hours", "Hours", 192_000, 120_000, 7.0,
        ("sales", "data", "platform"), consumed_unit="Hours", discount_pct=5,
        sku_meter="D4s v5", price_details=_vm("Standard_D4s_v5", 4, 16),
        resource_type="Virtual Machine", resource_prefix="/subscriptions/vm/vm-",
        n_resources=250, commitment="azure_sp",
    ),
    LineItem(
        "az_sql", "azure", CLOUD, "Azure SQL Database", "Databases", "Relational Databases",
        "General Purpose vCore hours", "Hours", 500_000, 60_000, 3.0, ("sales", "data"),
        consumed_unit="Hours", discount_pct=5, sku_meter="vCore", resource_type="SQL Database",
        resource_prefix="/subscriptions/sql/db-", n_resources=40, sigma=0.1, trend=STEADY,
    ),
    LineItem(
        "az_storage", "azure", CLOUD, "Storage", "Storage", "Object Storage",
        "Blob storage hot LRS", "GB-Months", 18_000, 30_000, 3.0, ("data", "sales"),
        consumed_unit="GB-Months", discount_pct=5, sku_meter="Hot LRS Data Stored",
        price_details='{"StorageClass":"Hot","Redundancy":"LRS"}',
        resource_type="Storage Account", resource_prefix="/subscriptions/st/stexample",
        n_resources=60,
    ),
    LineItem(
        "az_openai", "azure", AI, "Azure OpenAI Service", "AI and Machine Learning",
        "Generative AI", "GPT-4o output tokens", "1M Tokens", 10_000_000, 20_000, 2.0,
        ("sales", "corp"), consumed_unit="Tokens", consumed_per_pricing=1_000_000,
        sku_meter="gpt-4o Output Tokens", price_details=_model("gpt-4o", "output"),
        resource_type="Cognitive Services", resource_prefix="/subscriptions/ai/oai-",
        n_resources=8, trend=AI_RAMP,
    ),
    # Public cloud: Google Cloud
    LineItem(
        "gcp_gce", "gcp", CLOUD, "Compute Engine", "Compute", "Virtual Machines",
        "N2 instance core and memory hours", "Hours", 180_000, 70_000, 5.0, ("data", "web"),
        consumed_unit="Hours", discount_pct=6, sku_meter="N2 Instance Core",
        price_details=_vm("n2-standard-4", 4, 16), resource_type="Compute Instance",
        resource_prefix="//compute.googleapis.com/instances/instance-", n_resources=180,
        commitment="gcp_cud",
    ),
    LineItem(
        "gcp_bq", "gcp", CLOUD, "BigQuery", "Databases", "Data Warehouses",
        "BigQuery on-demand analysis", "TiB", 6_250_000, 60_000, 4.0, ("data", "search"),
        consumed_unit="TiB", discount_pct=6, sku_meter="Analysis", resource_type="Dataset",
        resource_prefix="//bigquery.googleapis.com/datasets/ds_", n_resources=70,
    ),
    LineItem(
        "gcp_gcs", "gcp", CLOUD, "Cloud Storage", "Storage", "Object Storage",
        "Standard storage", "GiB-Months", 20_000, 25_000, 2.0, ("data",),
        consumed_unit="GiB-Months", discount_pct=6, sku_meter="Standard Storage",
        price_details='{"StorageClass":"Standard","Redundancy":"Multi-Regional"}',
        resource_type="Bucket", resource_prefix="//storage.googleapis.com/ec-bucket-",
        n_resources=90,
    ),
    LineItem(
        "gcp_vertex", "gcp", AI, "Vertex AI", "AI and Machine Learning", "Generative AI",
        "Gemini input tokens", "1M Tokens", 1_250_000, 15_000, 2.0, ("search", "data"),
        consumed_unit="Tokens", consumed_per_pricing=1_000_000,
        sku_meter="Gemini Input Tokens", price_details=_model("gemini-pro", "input"),
        resource_type="Endpoint", resource_prefix="//aiplatform.googleapis.com/endpoints/ep-",
        n_resources=10, trend=AI_RAMP,
    ),
    # AI providers
    LineItem(
        "openai_in", "openai", AI, "OpenAI API", "AI and Machine Learning", "Generative AI",
        "gpt-4o input tokens", "1M Tokens", 2_500_000, 30_000, 4.0,
        ("assistant", "search", "corp"), consumed_unit="Tokens",
        consumed_per_pricing=1_000_000, sku_meter="gpt-4o input",
        price_details=_model("gpt-4o", "input"), resource_type="API Key",
        resource_prefix="key-", n_resources=30, trend=AI_RAMP,
    ),
    LineItem(
        "openai_out", "openai", AI, "OpenAI API", "AI and Machine Learning", "Generative AI",
        "gpt-4o output tokens", "1M Tokens", 10_000_000, 40_000, 4.0,
        ("assistant", "search", "corp"), consumed_unit="Tokens",
        consumed_per_pricing=1_000_000, sku_meter="gpt-4o output",
        price_details=_model("gpt-4o", "output"), resource_type="API Key",
        resource_prefix="key-", n_resources=30, trend=AI_RAMP,
    ),
    LineItem(
        "openai_embed", "openai", AI, "OpenAI API", "AI and Machine Learning",
        "Natural Language Processing", "text-embedding-3-large tokens", "1M Tokens", 130_000,
        5_000, 2.0, ("search",), consumed_unit="Tokens", consumed_per_pricing=1_000_000,
        sku_meter="text-embedding-3-large", price_details=_model("text-embedding-3-large", "input"),
        resource_type="API Key", resource_prefix="key-", n_resources=30, trend=AI_RAMP,
    ),
    LineItem(
        "anthropic_in", "anthropic", AI, "Claude API", "AI and Machine Learning",
        "Generative AI", "claude-sonnet input tokens", "1M Tokens", 3_000_000, 20_000, 3.0,
        ("assistant", "eng"), consumed_unit="Tokens", consumed_per_pricing=1_000_000,
        sku_meter="claude-sonnet input", price_details=_model("claude-sonnet", "input"),
        resource_type="API Key", resource_prefix="sk-ant-", n_resources=20, trend=AI_RAMP,
    ),
    LineItem(
        "anthropic_out", "anthropic", AI, "Claude API", "AI and Machine Learning",
        "Generative AI", "claude-sonnet output tokens", "1M Tokens", 15_000_000, 30_000, 3.0,
        ("assistant", "eng"), consumed_unit="Tokens", consumed_per_pricing=1_000_000,
        sku_meter="claude-sonnet output", price_details=_model("claude-sonnet", "output"),
        resource_type="API Key", resource_prefix="sk-ant-", n_resources=20, trend=AI_RAMP,
    ),
    # SaaS: recurring per-seat purchases, one row per team subscription and month
    LineItem(
        "sf_sales", "salesforce", SAAS, "Sales Cloud", "Business Applications",
        "Other (Business Applications)", "Sales Cloud Enterprise user subscription", "Users",
        165_000_000, 60_000, 0.6, ("sales", "corp"), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=24, discount_pct=15, sigma=0.3,
        trend=STEADY,
        untagged_pct=0,
    ),
    LineItem(
        "sf_service", "salesforce", SAAS, "Service Cloud", "Business Applications",
        "Other (Business Applications)", "Service Cloud Enterprise user subscription", "Users",
        165_000_000, 35_000, 0.4, ("sales", "assistant"), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=16, discount_pct=15, sigma=0.3,
        trend=STEADY,
        untagged_pct=0,
    ),
    LineItem(
        "slack", "slack", SAAS, "Slack Business+", "Business Applications",
        "Productivity and Collaboration", "Slack Business+ user subscription", "Users",
        12_500_000, 18_000, 0.8, ("corp", "eng", "sales", "data"), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=30, sigma=0.3, trend=GROWTH,
        untagged_pct=0,
    ),
    LineItem(
        "jira", "atlassian", SAAS, "Jira Software Cloud Premium", "Developer Tools",
        "Other (Developer Tools)", "Jira Software Premium user subscription", "Users",
        16_000_000, 20_000, 0.6, ("eng", "platform", "data"), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=30, sigma=0.3, untagged_pct=0,
    ),
    LineItem(
        "confluence", "atlassian", SAAS, "Confluence Cloud Premium", "Business Applications",
        "Productivity and Collaboration", "Confluence Premium user subscription", "Users",
        10_500_000, 12_000, 0.5, ("eng", "corp"), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=20, sigma=0.3, untagged_pct=0,
    ),
    LineItem(
        "github", "github", SAAS, "GitHub Enterprise Cloud", "Developer Tools",
        "Source Code Management", "GitHub Enterprise user subscription", "Users", 21_000_000,
        30_000, 0.8, ("eng", "platform", "web", "data"), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=40, sigma=0.4, untagged_pct=0,
    ),
    # Licensing: recurring monthly instalments of annual licences and support
    LineItem(
        "ora_db", "oracle_lic", LICENSING, "Oracle Database Enterprise Edition",
        "Databases", "Relational Databases", "Processor licence support", "Processor Licenses",
        1_100_000_000, 90_000, 0.5, ("payments", "data"), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=12, sigma=0.2, trend=STEADY,
        untagged_pct=0,
    ),
    LineItem(
        "ora_java", "oracle_lic", LICENSING, "Oracle Java SE Universal Subscription",
        "Developer Tools", "Other (Developer Tools)", "Java SE employee subscription",
        "Employees", 15_000_000, 25_000, 0.3, ("corp",), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=4, sigma=0.1, trend=STEADY, untagged_pct=0,
    ),
    LineItem(
        "ms_m365", "ms_lic", LICENSING, "Microsoft 365 E5", "Business Applications",
        "Productivity and Collaboration", "Microsoft 365 E5 user licences", "Users",
        57_000_000, 110_000, 0.8, ("corp", "sales", "eng"), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=40, discount_pct=12, sigma=0.3,
        untagged_pct=0,
    ),
    LineItem(
        "ms_sql", "ms_lic", LICENSING, "SQL Server Enterprise", "Databases",
        "Relational Databases", "SQL Server Enterprise two-core packs", "Core Packs",
        1_150_000_000, 50_000, 0.4, ("sales", "payments"), charge_category="Purchase",
        frequency="Recurring", monthly=True, n_resources=10, discount_pct=12, sigma=0.2,
        trend=DECLINE,
        untagged_pct=0,
    ),
    # Data center: colocation, power, cross connects and hardware depreciation
    LineItem(
        "eqx_cabinet", "equinix", DATA_CENTER, "Colocation", "Compute", "Other (Compute)",
        "Cabinet space and standard power", "Cabinets", 2_100_000_000, 80_000, 0.8,
        ("platform", "payments"), charge_category="Purchase", frequency="Recurring",
        monthly=True, sigma=0.2, trend=DECLINE, resource_type="Cabinet",
        resource_prefix="CAB-", n_resources=12, untagged_pct=0,
    ),
    LineItem(
        "eqx_power", "equinix", DATA_CENTER, "Metered Power", "Compute", "Other (Compute)",
        "Metered power above commit", "kWh", 140_000, 35_000, 0.8, ("platform",),
        consumed_unit="kWh", monthly=True, sigma=0.2, trend=DECLINE, resource_type="Circuit",
        resource_prefix="PWR-", n_resources=12,
    ),
    LineItem(
        "eqx_xconnect", "equinix", DATA_CENTER, "Cross Connect", "Networking",
        "Network Connectivity", "Single-mode fibre cross connect", "Connections", 300_000_000,
        9_000, 0.4, ("platform",), charge_category="Purchase", frequency="Recurring",
        monthly=True, sigma=0.3, trend=STEADY, resource_type="Cross Connect",
        resource_prefix="XC-", n_resources=10,
    ),
    LineItem(
        "dc_servers", "onprem", DATA_CENTER, "Server Hardware", "Compute", "Other (Compute)",
        "PowerEdge server depreciation", "Servers", 410_000_000, 120_000, 0.8,
        ("platform", "payments", "data"), charge_category="Purchase", frequency="Recurring",
        monthly=True, sigma=0.3, trend=DECLINE, resource_type="Asset",
        resource_prefix="FA-SRV-", n_resources=40, untagged_pct=0,
    ),
    LineItem(
        "dc_storage", "onprem", DATA_CENTER, "Storage Arrays", "Storage", "Storage Platforms",
        "Storage array depreciation", "Arrays", 6_500_000_000, 40_000, 0.4, ("data", "platform"),
        charge_category="Purchase", frequency="Recurring", monthly=True, sigma=0.2,
        trend=DECLINE, resource_type="Asset", resource_prefix="FA-STO-", n_resources=4,
        untagged_pct=0,
    ),
)

EUR_LINE_ITEMS: tuple[LineItem, ...] = (
    LineItem(
        "azeu_vm", "azure_eu", CLOUD, "Virtual Machines", "Compute", "Virtual Machines",
        "D4s v5 Linux virtual machine hours", "Hours", 205_000, 60_000, 3.0, ("web", "payments"),
        consumed_unit="Hours", discount_pct=5, sku_meter="D4s v5",
        price_details=_vm("Standard_D4s_v5", 4, 16), resource_type="Virtual Machine",
        resource_prefix="/subscriptions/eu/vm-", n_resources=80,
    ),
    LineItem(
        "azeu_storage", "azure_eu", CLOUD, "Storage", "Storage", "Object Storage",
        "Blob storage hot ZRS", "GB-Months", 21_000, 12_000, 1.0, ("web",),
        consumed_unit="GB-Months", discount_pct=5, sku_meter="Hot ZRS Data Stored",
        resource_type="Storage Account", resource_prefix="/subscriptions/eu/steu",
        n_resources=20,
    ),
)

COMMITMENT_PLANS: tuple[CommitmentPlan, ...] = (
    CommitmentPlan(
        "aws_sp", "aws", "arn:aws:savingsplans::123456789012:savingsplan/sp-0e1f2a3b4c",
        "Compute Savings Plan 3yr No Upfront", "Savings Plan", 72, 85, 0,
        "Savings Plan recurring fee",
    ),
    CommitmentPlan(
        "gcp_cud", "gcp", "//billing.googleapis.com/commitments/cud-flex-7781",
        "Compute Flexible CUD 1yr", "Committed Use Discount", 80, 95, 3,
        "Committed use discount recurring fee",
    ),
    CommitmentPlan(
        "azure_sp", "azure",
        "/providers/Microsoft.BillingBenefits/savingsPlanOrders/5b3e/savingsPlans/8c1d",
        "Azure Savings Plan for Compute 1yr", "Savings Plan", 78, 115, 6,
        "Savings plan commitment purchase (monthly)",
    ),
)

# (account key, month index from the first month, credit in basis points of that month's bill)
CREDITS: tuple[tuple[str, int, int], ...] = (
    ("gcp", 0, 1500),
    ("gcp", 1, 1000),
    ("openai", 4, 2000),
    ("aws", 7, 300),
)
# fmt: on
