// Report formats: the table names failing cases with their reasons; JUnit XML is escaped and counts failures.
import { describe, expect, it } from "vitest";
import { formatJunit, formatTable, xml } from "../../../../controller/src/cli/policy-test/format.ts";
import type { TestReport } from "../../../../controller/src/cli/policy-test/test-documents.ts";

const report: TestReport = {
  ok: false,
  problems: [],
  suites: [
    {
      name: "shop",
      location: "tests/shop.yaml",
      errors: [],
      cases: [
        { name: "api reads", passed: true, failures: [], got: { allowed: true, policy: "TokenPolicy/shop/api", scopes: ["r"], ttlSeconds: 600 } },
        {
          name: "api <may not> write",
          passed: false,
          failures: ['expected denied (ScopeNotAllowed), got allowed under TokenPolicy/shop/api with scopes [w], ttl 600s'],
          got: { allowed: true, policy: "TokenPolicy/shop/api", scopes: ["w"], ttlSeconds: 600 },
        },
      ],
    },
    { name: "broken", location: "tests/broken.yaml", errors: ["spec.cases: required"], cases: [] },
  ],
};

describe("test report formats", () => {
  it("prints one line per case and lists each failure with its case and reason", () => {
    const table = formatTable(report);
    expect(table).toMatch(/^PASS +shop +api reads +allowed r, 600s, TokenPolicy\/shop\/api$/m);
    expect(table).toMatch(/^FAIL +shop +api <may not> write/m);
    expect(table).toContain("  shop › api <may not> write: expected denied (ScopeNotAllowed), got allowed under TokenPolicy/shop/api");
    expect(table).toContain("ERROR  tests/broken.yaml (suite broken): spec.cases: required");
    expect(table.trim().split("\n").at(-1)).toBe("2 cases in 2 suites: 1 passed, 1 failed, 1 suites invalid");
  });

  it("writes JUnit XML with escaped names, a failure per failing case and an error per invalid suite", () => {
    const junit = formatJunit(report);
    expect(junit).toContain('<testsuites name="tessera test" tests="2" failures="1" errors="1">');
    expect(junit).toContain('name="api &lt;may not&gt; write"');
    expect(junit).toContain('<failure message="shop › api &lt;may not&gt; write: expected denied (ScopeNotAllowed)');
    expect(junit).toContain('<testcase classname="broken" name="(suite is invalid)"><error message="spec.cases: required">');
  });

  it("drops characters XML cannot carry and escapes the rest", () => {
    expect(xml("a\u0000b & \"c\" <d>")).toBe("ab &amp; &quot;c&quot; &lt;d&gt;");
  });
});
