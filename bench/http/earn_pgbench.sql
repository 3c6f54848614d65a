-- The raw ceiling of an API earn on PostgreSQL (bench/bench_http.py runs it with
-- pgbench): the rows one partner earn writes (loyalty/purchases.py record_purchase,
-- rules.award, ledger.earn, tiers.review, messages.after_purchase, partners/till.py earn,
-- partners/idempotency.py), as one statement and one transaction. Variables from
-- pgbench -D: members, issuer (the partner's ledger account), partner, rule. (pgbench
-- takes a colon and a variable's name as the variable even inside a string literal.)
\set member random(1, :members)
\set amount random(1, 50) * 100000
\set points :amount / 100000
WITH n AS (
  SELECT 'raw-' || nextval('bench_raw_receipts') AS receipt, now() AS at,
    CAST(:member AS bigint) AS member, CAST(:amount AS bigint) AS amount,
    CAST(:points AS bigint) AS points, CAST(:issuer AS bigint) AS issuer,
    CAST(:partner AS bigint) AS partner, CAST(:rule AS bigint) AS rule
), p AS (
  INSERT INTO loyalty_purchases (customer_id, issuer_account_id, receipt_number, receipt_key,
    amount, categories, points, refunded_amount, points_taken_back, recorded_by, created_at)
  SELECT n.member, n.issuer, n.receipt, n.receipt, n.amount, '[]', n.points, 0, 0, 'key:1', n.at
  FROM n RETURNING id
), w AS (
  UPDATE loyalty_accounts SET balance = balance + n.points FROM n
  WHERE customer_id = n.member AND kind = 'wallet' RETURNING loyalty_accounts.id
), j AS (
  INSERT INTO loyalty_journal (kind, amount, debit_account_id, credit_account_id, customer_id,
    idempotency_key, cause_type, cause_id, memo, created_by, created_at)
  SELECT 'earn', n.points, n.issuer, w.id, n.member, 'purchase:' || p.id || ':' || 'rule:' || n.rule,
    'purchase', CAST(p.id AS text), 'base', 'partner:1', n.at
  FROM n, p, w RETURNING id
), l AS (
  INSERT INTO loyalty_lots (customer_id, entry_id, points, remaining, available, available_at,
    expires_at, created_at)
  SELECT n.member, j.id, n.points, n.points, true, n.at, n.at + interval '365 days', n.at
  FROM n, j
), a AS (
  INSERT INTO loyalty_rule_awards (rule_id, customer_id, entry_id, points, day)
  SELECT n.rule, n.member, j.id, n.points, CAST(n.at AS date) FROM n, j
), t AS (
  INSERT INTO loyalty_member_tiers (customer_id, tier_id, since, points, reviewed_at)
  SELECT n.member, NULL, n.at, n.points, n.at FROM n
  ON CONFLICT (customer_id) DO UPDATE
  SET points = loyalty_member_tiers.points + EXCLUDED.points, reviewed_at = EXCLUDED.reviewed_at
), x AS (
  INSERT INTO partner_transactions (partner_id, kind, customer_id, purchase_id, points, amount,
    receipt, reversed, recorded_by, created_at)
  SELECT n.partner, 'earn', n.member, p.id, n.points, n.amount, n.receipt, 0, 'key:1', n.at
  FROM n, p RETURNING id
), i AS (
  INSERT INTO partner_idempotency (partner_id, key, fingerprint, status, response, created_at)
  SELECT n.partner, n.receipt, md5(n.receipt) || md5(n.receipt), 201,
    json_build_object('id', x.id, 'kind', 'earn', 'points', n.points, 'amount', n.amount),
    n.at
  FROM n, x
), au AS (
  INSERT INTO audit_log (at, actor_kind, actor_id, action, object_type, object_id, details, ip)
  SELECT n.at, 'partner', n.partner, 'purchase.record', 'purchase', CAST(p.id AS text),
    json_build_object('receipt', n.receipt, 'amount', n.amount, 'points', n.points),
    '127.0.0.1'
  FROM n, p
), s AS (
  INSERT INTO sms_messages ("to", body, kind, sensitive, urgent, status, attempts,
    next_attempt_at, created_at)
  SELECT '+98912' || lpad(CAST(n.member AS text), 7, '0'),
    'Vafa: this purchase earned you ' || n.points || ' points.', 'text', false, true,
    'pending', 0, n.at, n.at
  FROM n
)
SELECT 1;
