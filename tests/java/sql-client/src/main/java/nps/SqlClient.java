package nps;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Connects to the SQL endpoint through the ClickHouse JDBC driver, as a BI tool does, and reports
 * on standard output, one tab-separated record a line:
 *
 * <pre>
 * version  &lt;server version&gt;
 * table    &lt;schema&gt;  &lt;name&gt;            (DatabaseMetaData.getTables)
 * column   &lt;table&gt;   &lt;name&gt;  &lt;type&gt;   (DatabaseMetaData.getColumns)
 * result   &lt;n&gt;                         then, per statement N read from standard input:
 * meta     &lt;name&gt;    &lt;type name&gt;  &lt;java.sql.Types&gt;
 * row      &lt;value&gt;   ...
 * error    &lt;message&gt;
 * </pre>
 *
 * Statements on standard input are separated by lines holding only "--;". Each runs as a
 * PreparedStatement with every ? bound to the survey id given as the fourth argument.
 *
 * Usage: SqlClient &lt;jdbc url&gt; &lt;user&gt; &lt;key&gt; &lt;survey id&gt;
 */
public final class SqlClient {
  private SqlClient() {}

  private static String clean(Object value) {
    return value == null ? "\\N" : value.toString().replace('\t', ' ').replace('\n', ' ');
  }

  public static void main(String[] args) throws Exception {
    Properties properties = new Properties();
    properties.setProperty("user", args[1]);
    properties.setProperty("password", args[2]);
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.trim().equals("--;")) {
          statements.add(current.toString());
          current.setLength(0);
        } else {
          current.append(line).append('\n');
        }
      }
    }
    if (!current.toString().isBlank()) statements.add(current.toString());

    try (Connection connection = DriverManager.getConnection(args[0], properties)) {
      DatabaseMetaData meta = connection.getMetaData();
      System.out.println("version\t" + meta.getDatabaseProductVersion());
      try (ResultSet tables = meta.getTables(null, null, "%", null)) {
        while (tables.next()) {
          System.out.println(
              "table\t" + tables.getString("TABLE_SCHEM") + "\t" + tables.getString("TABLE_NAME"));
        }
      }
      try (ResultSet columns = meta.getColumns(null, null, "responses", "%")) {
        while (columns.next()) {
          System.out.println(
              "column\t"
                  + columns.getString("TABLE_NAME")
                  + "\t"
                  + columns.getString("COLUMN_NAME")
                  + "\t"
                  + columns.getString("TYPE_NAME"));
        }
      }
      for (int n = 0; n < statements.size(); n++) {
        System.out.println("result\t" + n);
        try (PreparedStatement statement = connection.prepareStatement(statements.get(n))) {
          int placeholders = statement.getParameterMetaData().getParameterCount();
          for (int i = 1; i <= placeholders; i++) statement.setString(i, args[3]);
          try (ResultSet rows = statement.executeQuery()) {
            ResultSetMetaData columns = rows.getMetaData();
            for (int i = 1; i <= columns.getColumnCount(); i++) {
              System.out.println(
                  "meta\t"
                      + columns.getColumnLabel(i)
                      + "\t"
                      + columns.getColumnTypeName(i)
                      + "\t"
                      + columns.getColumnType(i));
            }
            while (rows.next()) {
              StringBuilder row = new StringBuilder("row");
              for (int i = 1; i <= columns.getColumnCount(); i++) {
                row.append('\t').append(clean(rows.getObject(i)));
              }
              System.out.println(row);
            }
          }
        } catch (SQLException e) {
          System.out.println("error\t" + clean(e.getMessage()));
        }
      }
    }
  }
}
