/* The target description of the_arch, read the way gdb reads it (expat,
 * target.xml, xi:include, regnum numbering), must describe exactly the
 * register table the server sends: same names, sizes and numbers, and a
 * raw block with the registers back to back in that order. */
#include <expat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "testsuite/unit/check.h"

#define MAX_REGS 512
#define MAX_NAMES 128

struct xml_reg {
	char name[32];
	char type[32];
	unsigned bitsize;
	long regnum;        /* from the XML attribute, -1 when absent */
};

/* What one document holds, collected by the expat callbacks. */
struct doc {
	char root[32];
	int depth;
	/* target.xml */
	char includes[16][64];
	size_t nincludes;
	char architecture[64];
	char osabi[64];
	char *text;                         /* element whose text we collect */
	size_t text_cap;
	/* a feature */
	char feature[128];
	struct xml_reg regs[MAX_REGS];
	size_t nregs;
	char defined[MAX_NAMES][32];        /* ids of vector/union/flags/struct/enum */
	size_t ndefined;
	char used[MAX_NAMES][32];           /* types that registers and fields use */
	size_t nused;
	bool in_union_or_struct;
	bool overflow;
};

static const char *attr(const XML_Char **atts, const char *name)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (strcmp(atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

static void copy(char *dst, size_t cap, const char *src, bool *overflow)
{
	if (strlen(src) >= cap)
		*overflow = true;
	snprintf(dst, cap, "%s", src);
}

static void add_name(char list[][32], size_t *n, const char *name, bool *overflow)
{
	if (*n == MAX_NAMES) {
		*overflow = true;
		return;
	}
	copy(list[(*n)++], 32, name, overflow);
}

static void XMLCALL on_start(void *data, const XML_Char *el, const XML_Char **atts)
{
	struct doc *d = data;
	if (d->depth++ == 0)
		copy(d->root, sizeof d->root, el, &d->overflow);
	if (strcmp(el, "xi:include") == 0) {
		const char *href = attr(atts, "href");
		if (href && d->nincludes < 16)
			copy(d->includes[d->nincludes++], 64, href, &d->overflow);
		else
			d->overflow = true;
	} else if (strcmp(el, "architecture") == 0) {
		d->text = d->architecture;
		d->text_cap = sizeof d->architecture;
	} else if (strcmp(el, "osabi") == 0) {
		d->text = d->osabi;
		d->text_cap = sizeof d->osabi;
	} else if (strcmp(el, "feature") == 0) {
		const char *name = attr(atts, "name");
		copy(d->feature, sizeof d->feature, name ? name : "", &d->overflow);
	} else if (strcmp(el, "reg") == 0) {
		if (d->nregs == MAX_REGS) {
			d->overflow = true;
			return;
		}
		struct xml_reg *r = &d->regs[d->nregs++];
		const char *name = attr(atts, "name"), *bits = attr(atts, "bitsize");
		const char *type = attr(atts, "type"), *num = attr(atts, "regnum");
		copy(r->name, sizeof r->name, name ? name : "", &d->overflow);
		copy(r->type, sizeof r->type, type ? type : "int", &d->overflow);
		r->bitsize = bits ? (unsigned)strtoul(bits, NULL, 10) : 0;
		r->regnum = num ? strtol(num, NULL, 10) : -1;
		add_name(d->used, &d->nused, r->type, &d->overflow);
	} else if (strcmp(el, "vector") == 0 || strcmp(el, "union") == 0 ||
		   strcmp(el, "flags") == 0 || strcmp(el, "struct") == 0 ||
		   strcmp(el, "enum") == 0) {
		const char *id = attr(atts, "id");
		add_name(d->defined, &d->ndefined, id ? id : "", &d->overflow);
		const char *type = attr(atts, "type");
		if (type)   /* a vector's element type */
			add_name(d->used, &d->nused, type, &d->overflow);
		d->in_union_or_struct = strcmp(el, "union") == 0 || strcmp(el, "struct") == 0;
	} else if (strcmp(el, "field") == 0 && d->in_union_or_struct) {
		const char *type = attr(atts, "type");
		if (type)
			add_name(d->used, &d->nused, type, &d->overflow);
	}
}

static void XMLCALL on_end(void *data, const XML_Char *el)
{
	struct doc *d = data;
	d->depth--;
	d->text = NULL;
	if (strcmp(el, "union") == 0 || strcmp(el, "struct") == 0)
		d->in_union_or_struct = false;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
	struct doc *d = data;
	if (!d->text)
		return;
	size_t have = strlen(d->text);
	if (have + (size_t)len >= d->text_cap) {
		d->overflow = true;
		return;
	}
	memcpy(d->text + have, s, (size_t)len);
	d->text[have + (size_t)len] = '\0';
}

/* Parse XML into a fresh *D; false (with a message) when it is not
 * well-formed. */
static bool parse(const char *annex, const char *xml, struct doc *d)
{
	memset(d, 0, sizeof *d);
	XML_Parser p = XML_ParserCreate(NULL);
	if (!p)
		return false;
	XML_SetUserData(p, d);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	bool ok = XML_Parse(p, xml, (int)strlen(xml), 1) == XML_STATUS_OK;
	if (!ok)
		fprintf(stderr, "%s: line %lu: %s\n", annex,
			(unsigned long)XML_GetCurrentLineNumber(p),
			XML_ErrorString(XML_GetErrorCode(p)));
	XML_ParserFree(p);
	return ok && !d->overflow;
}

/* Types gdb knows without a definition (gdb/target-descriptions.c). */
static bool predefined_type(const char *t)
{
	static const char *const builtin[] = {
		"bool", "int8", "int16", "int24", "int32", "int64", "int128",
		"uint8", "uint16", "uint24", "uint32", "uint64", "uint128",
		"code_ptr", "data_ptr", "ieee_half", "ieee_single", "ieee_double",
		"arm_fpa_ext", "i387_ext", "bfloat16", "int", "float",
	};
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
		if (strcmp(t, builtin[i]) == 0)
			return true;
	return false;
}

static bool defined_in(const struct doc *d, const char *t)
{
	for (size_t i = 0; i < d->ndefined; i++)
		if (strcmp(d->defined[i], t) == 0)
			return true;
	return false;
}

static void check_feature_types(const char *annex, const struct doc *d)
{
	for (size_t i = 0; i < d->nused; i++) {
		bool known = predefined_type(d->used[i]) || defined_in(d, d->used[i]);
		if (!known)
			fprintf(stderr, "%s: type '%s' is neither predefined nor defined\n",
				annex, d->used[i]);
		CHECK(known);
	}
}

int main(void)
{
	const struct arch_ops *a = &the_arch;
	const struct arch_regfile *rf = &the_regfile;
	CHECK(arch_init() == 0);
	if (!rf->nregs)
		return check_done("test_arch_tdesc");
	CHECK(rf->nfeatures >= 2);
	CHECK(rf->nregs > 0 && rf->nregs <= MAX_REGS);
	CHECK_STR(rf->features[0].annex, "target.xml");
	for (size_t i = 0; i < rf->nfeatures; i++) {
		CHECK(arch_feature(rf, rf->features[i].annex) == rf->features[i].xml);
		for (size_t j = i + 1; j < rf->nfeatures; j++)
			CHECK(strcmp(rf->features[i].annex, rf->features[j].annex) != 0);
	}
	CHECK(arch_feature(rf, "no-such.xml") == NULL);
	/* A table shorter than its count leaves zeroed entries behind. */
	for (size_t i = 0; i < rf->nregs; i++)
		if (!rf->regs[i].name) {
			fprintf(stderr, "register %zu has no name\n", i);
			CHECK(rf->regs[i].name != NULL);
			return check_done("test_arch_tdesc");
		}

	/* target.xml: a target naming the architecture and OS, including the
	 * other files, each of them once. */
	static struct doc target, feature;
	CHECK(parse("target.xml", rf->features[0].xml, &target));
	CHECK_STR(target.root, "target");
	CHECK(target.architecture[0] != '\0');
	CHECK_STR(target.osabi, "GNU/Linux");
	CHECK(target.nincludes == rf->nfeatures - 1);
	bool included[16] = {false};
	for (size_t i = 1; i < rf->nfeatures && i < 16; i++)
		for (size_t k = 0; k < target.nincludes; k++)
			if (strcmp(target.includes[k], rf->features[i].annex) == 0)
				included[i] = true;
	for (size_t i = 1; i < rf->nfeatures && i < 16; i++) {
		if (!included[i])
			fprintf(stderr, "%s is not included by target.xml\n", rf->features[i].annex);
		CHECK(included[i]);
	}

	/* Follow the includes in order and number the registers as gdb does:
	 * an explicit regnum, else one past the previous register. */
	static struct xml_reg declared[MAX_REGS];
	static bool numbered[MAX_REGS];
	size_t ndeclared = 0;
	long next = 0;
	bool have_core = false;
	for (size_t k = 0; k < target.nincludes; k++) {
		const char *annex = target.includes[k];
		const char *xml = arch_feature(rf, annex);
		CHECK(xml != NULL);
		if (!xml)
			continue;
		bool ok = parse(annex, xml, &feature);
		CHECK(ok);
		CHECK_STR(feature.root, "feature");
		CHECK(strncmp(feature.feature, "org.gnu.gdb.", 12) == 0);
		size_t fl = strlen(feature.feature);
		if (fl > 5 && strcmp(feature.feature + fl - 5, ".core") == 0)
			have_core = true;
		check_feature_types(annex, &feature);
		for (size_t i = 0; i < feature.nregs; i++) {
			struct xml_reg r = feature.regs[i];
			if (r.regnum >= 0) {
				CHECK(r.regnum >= next);   /* numbers only go up */
				next = r.regnum;
			}
			r.regnum = next++;
			CHECK(r.regnum < MAX_REGS);
			if (r.regnum >= MAX_REGS || ndeclared == MAX_REGS)
				break;
			CHECK(!numbered[r.regnum]);
			numbered[r.regnum] = true;
			declared[ndeclared++] = r;
		}
	}
	CHECK(have_core);

	/* Every declared register is the table's entry of that number, and
	 * every entry the XML does not declare is an empty gap. */
	CHECK((size_t)next == rf->nregs);
	for (size_t i = 0; i < ndeclared; i++) {
		const struct xml_reg *x = &declared[i];
		if ((size_t)x->regnum >= rf->nregs) {
			fprintf(stderr, "XML register %s (%ld) is past the table\n", x->name, x->regnum);
			CHECK((size_t)x->regnum < rf->nregs);
			continue;
		}
		const struct arch_reg *r = &rf->regs[x->regnum];
		if (strcmp(r->name, x->name) != 0 || (unsigned)r->size * 8 != x->bitsize)
			fprintf(stderr, "regnum %ld: XML %s/%u bits, table %s/%u bytes\n",
				x->regnum, x->name, x->bitsize, r->name, (unsigned)r->size);
		CHECK_STR(r->name, x->name);
		CHECK((unsigned)r->size * 8 == x->bitsize);
	}
	size_t gaps = 0;
	for (size_t i = 0; i < rf->nregs && i < MAX_REGS; i++) {
		if (numbered[i])
			continue;
		gaps++;
		CHECK(rf->regs[i].size == 0);
		CHECK(!rf->regs[i].in_g);
		CHECK(rf->regs[i].name[0] == '\0');
	}
	CHECK(ndeclared + gaps == rf->nregs);

	/* The raw block: registers back to back in gdb's order, the 'g' ones
	 * first, so that 'g' is a prefix of it. */
	size_t off = 0;
	bool past_g = false;
	for (size_t i = 0; i < rf->nregs; i++) {
		const struct arch_reg *r = &rf->regs[i];
		if (r->size == 0)
			continue;
		if (r->offset != off)
			fprintf(stderr, "%s: offset %u, expected %zu\n", r->name, (unsigned)r->offset, off);
		CHECK(r->offset == off);
		off += r->size;
		if (!r->in_g)
			past_g = true;
		CHECK(!(past_g && r->in_g));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(rf->regs[j].name, r->name) != 0);
	}
	CHECK(off == rf->size);

	/* The pc is what gdb calls it and get_pc/set_pc touch only it. */
	CHECK(a->pc_regno >= 0 && (size_t)a->pc_regno < rf->nregs);
	const struct arch_reg *pc = &rf->regs[a->pc_regno];
	CHECK(strcmp(pc->name, "pc") == 0 || strcmp(pc->name, "rip") == 0);
	CHECK(pc->size == 4 || pc->size == 8);
	CHECK(arch_regno(rf, pc->name) == a->pc_regno);
	uint8_t *block = calloc(1, rf->size), *zero = calloc(1, rf->size);
	CHECK(block && zero);
	if (block && zero) {
		uint64_t want = pc->size == 8 ? 0x0000fffe12345678ull : 0x12345678u;
		a->set_pc(block, want);
		CHECK(a->get_pc(block) == want);
		CHECK(arch_reg_get(rf, block, a->pc_regno) == want);
		a->set_pc(block, 0);
		CHECK(memcmp(block, zero, rf->size) == 0);
		arch_reg_set(rf, block, a->pc_regno, 0x1000);
		CHECK(a->get_pc(block) == 0x1000);
	}
	free(block);
	free(zero);

	/* Expedited registers: real ones, no repeats, the pc among them,
	 * and the -1 within the table's size. */
	size_t nexp = 0;
	bool exp_pc = false;
	while (nexp <= rf->nregs && a->expedite[nexp] != -1) {
		int r = a->expedite[nexp];
		CHECK(r >= 0 && (size_t)r < rf->nregs);
		if (r >= 0 && (size_t)r < rf->nregs)
			CHECK(rf->regs[r].size > 0);
		for (size_t j = 0; j < nexp; j++)
			CHECK(a->expedite[j] != r);
		exp_pc |= r == a->pc_regno;
		nexp++;
	}
	CHECK(nexp <= rf->nregs);
	CHECK(exp_pc);

	printf("%s: %zu registers (%zu gaps), %zu bytes, %zu feature files\n",
	       a->name, ndeclared, gaps, rf->size, rf->nfeatures);
	return check_done("test_arch_tdesc");
}
