/* mn_shell_word: plain words as they are, others single-quoted, and what
 * /bin/sh reads back from the word is the string itself (the point of the
 * "build it with" commands the user pastes). */
#include <stdio.h>
#include <string.h>

#include "util/shell_word.h"
#include "tap.h"

/* What sh -c "printf %s WORD" prints: the word as the shell parses it. */
static int shell_reads(const char *word, char *out, size_t n)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "printf %%s %s", word);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t k = fread(out, 1, n - 1, p);
	out[k] = '\0';
	return pclose(p) == 0 ? 0 : -1;
}

int main(void)
{
	static const char *const plain[] = {"cifar10.bin", "/tmp/a-b_c/d.e", "x=1,y@2:%+"};
	static const char *const odd[] = {"/tmp/my data/x.bin", "an atlas's.csv", "a'b'c",
					  "$HOME", "a;b", "*", "tab\there", "back\\slash", "\"q\""};
	char w[512], back[512];
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		int n = mn_shell_word(plain[i], w, sizeof w);
		tap_ok(!strcmp(w, plain[i]) && n == (int)strlen(plain[i]), "plain %s as it is (%s)",
		       plain[i], w);
	}
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		int n = mn_shell_word(odd[i], w, sizeof w);
		tap_ok(w[0] == '\'' && n == (int)strlen(w) && shell_reads(w, back, sizeof back) == 0 &&
			       !strcmp(back, odd[i]),
		       "%s is quoted (%s) and sh reads it back", odd[i], w);
	}
	int n = mn_shell_word("", w, sizeof w);
	tap_ok(!strcmp(w, "''") && n == 2, "the empty string is '' (an argument, not none)");
	char small[6];
	n = mn_shell_word("a b'c d", small, sizeof small);
	mn_shell_word("a b'c d", w, sizeof w);
	tap_ok(n == (int)strlen(w) && strlen(small) == sizeof small - 1 &&
		       !strncmp(small, w, sizeof small - 1),
	       "a short buffer: cut and terminated, the whole length returned (%d)", n);
	return tap_done();
}
