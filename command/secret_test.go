package command

import (
	"context"
	"strings"
	"testing"

	"ipnstack/msgcat"
	"ipnstack/users"
)

func TestLooksSecret(t *testing.T) {
	for _, k := range []string{"PASSWORD", "password", "PASSW", "PAS", "PASS", "PASSWD", "PASWORD", "PASSWROD",
		"PASSWRD", "PASSWORDS", "PWD", "PW", "PSW", "PASSCODE", "PASSWORT", "PASSWOR", "PASWD", "paswd", "PASWRD"} {
		if !looksSecret(k) {
			t.Errorf("%s is not taken for a secret keyword", k)
		}
	}
	for _, k := range []string{"PORT", "ID", "IPADDR", "DLBL", "PUBLIC", "CONSOLE", "ROOT", "LOW", "HIGH", "PA", "P",
		"ANONYMOUS", "DATAPORTS", "FORWARD", "GATEWAY", "COUNT", "PASVADDR", "PASVWAIT"} {
		if looksSecret(k) {
			t.Errorf("%s is taken for a secret keyword", k)
		}
	}
}

func TestMaskSecretsForms(t *testing.T) {
	cases := map[string]string{
		"define user id=t7,passw=Leak7":              "define user id=t7,passw=********",
		"DEFINE USER ID=A,PASWORD=Leak7,CONSOLE=YES": "DEFINE USER ID=A,PASWORD=********,CONSOLE=YES",
		"DEFINE USER ID=A,PWD='a b, c',ROOT=/":       "DEFINE USER ID=A,PWD=********,ROOT=/",
		"DEFINE USER ID=A,ROOT='PASSWORD=x'":         "DEFINE USER ID=A,ROOT='PASSWORD=x'",
		"DEFINE USER ID=A,PASSWORD=":                 "DEFINE USER ID=A,PASSWORD=",
		"DEFINE USER ID=A,PASSWORD='it''s'":          "DEFINE USER ID=A,PASSWORD=********",
	}
	for in, want := range cases {
		if got := MaskSecrets(in); got != want {
			t.Errorf("MaskSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSecretsNeverInReplies: whatever is wrong with a line that holds a
// secret, no reply (echo, syntax or operand error) shows its value, and the
// hardcopy log has none either.
func TestSecretsNeverInReplies(t *testing.T) {
	for _, line := range []string{
		"define user id=t7,passw=Leak7",
		"define user id=t7,password='Leak7",
		"define user id=t7,password=Leak7,password=Leak7",
		"define user id=t7,pasword=Leak7,bogus=1",
		"define user id=t7,password=(Leak7",
		"define user id=t7,password=Leak7)))",
		"define user id=t7 password='Leak7''",
		"define user id=t7,password=\"Leak7",
		"define user id=t7,password=" + strings.Repeat("Leak7", 40),
	} {
		var out []string
		s := &Session{Table: Commands, Console: ConsoleInfo{Auth: users.Full},
			Out: OutFunc(func(m msgcat.Msg) { out = append(out, m.String()) })}
		rc := s.Do(context.Background(), line)
		all := strings.Join(out, "\n")
		if strings.Contains(all, "Leak7") || strings.Contains(all, "eak7") {
			t.Errorf("%q: a reply shows the secret:\n%s", line, all)
		}
		if !strings.HasPrefix(out[0], "IPN237I ") || !strings.Contains(out[0], Masked) {
			t.Errorf("%q: echo %q", line, out[0])
		}
		if line != "define user id=t7,password=Leak7,password=Leak7" && rc < 8 {
			t.Errorf("%q: rc %d\n%s", line, rc, all)
		}
	}
}

// TestSecretEqualToID: a password equal to the user id does not hide the id
// (the echo shows it anyway); the password's own place is masked.
func TestSecretEqualToID(t *testing.T) {
	var out []string
	s := &Session{Table: Commands, Console: ConsoleInfo{Auth: users.Full},
		Out: OutFunc(func(m msgcat.Msg) { out = append(out, m.String()) })}
	s.Do(context.Background(), "DEFINE USER ID=IPNUSER,PASSWORD=IPNUSER,CONSOLE=YES")
	if out[0] != "IPN237I DEFINE USER ID=IPNUSER,PASSWORD=********,CONSOLE=YES" {
		t.Fatalf("%q", out)
	}
}

// TestOneLetterSecret: a one-letter password is masked where it is the
// value, and nowhere else: the replies keep every "b" of their own text.
func TestOneLetterSecret(t *testing.T) {
	var out []string
	s := &Session{Table: Commands, Console: ConsoleInfo{Auth: users.Full},
		Out: OutFunc(func(m msgcat.Msg) { out = append(out, m.String()) })}
	s.Do(context.Background(), "FTP HOST=10.77.0.2,USER=bob,PASSWORD=b,LOCAL=PUB,CMD=('RENAME a b')")
	all := strings.Join(out, "\n")
	if out[0] != "IPN237I FTP HOST=10.77.0.2,USER=bob,PASSWORD=********,LOCAL=PUB,CMD=('RENAME a b')" {
		t.Fatalf("echo %q", out[0])
	}
	if !strings.Contains(all, "'RENAME a b' is not a subcommand: the subcommands are") {
		t.Fatalf("the reply lost letters to the mask:\n%s", all)
	}
	out = nil
	s.Do(context.Background(), "DEFINE USER ID=A,PASSWORD="+strings.Repeat("b", 200))
	if all := strings.Join(out, "\n"); strings.Contains(all, "bbbb") || !strings.Contains(all, Masked) {
		t.Fatalf("a password too long is quoted:\n%s", all)
	}
}
